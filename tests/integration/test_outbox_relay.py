"""The outbox relay against real PostgreSQL: publishes the store in order, stops when it
loses the lock that makes it the only relay, gathers what is stored while it paces its reads
into one read, and never moves its position past an event Kafka did not acknowledge."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError

from services.pipeline.adapters.event_store import RunStore
from services.pipeline.adapters.outbox_relay import RELAY_LOCK_KEY, OutboxRelay
from services.pipeline.domain.run import AutomationRun
from shared.infra.db import create_pool
from tests.support.stores import scratch_store

pytestmark = pytest.mark.integration


@pytest.fixture
async def store_and_pool():
    with scratch_store("relay") as (url, store):
        pool = await create_pool(url)
        yield url, store, pool
        await pool.close()


def _pause_and_resume(store: RunStore, run_id: str, saves: int) -> None:
    """``saves`` more events of the run, each in a commit of its own."""
    for turn in range(saves):
        run = store.get(uuid.UUID(run_id))
        now = datetime.now(timezone.utc)
        run.pause("operator", now) if turn % 2 == 0 else run.resume(now)
        store.save(run)


def _record_run(store: RunStore) -> str:
    run_id = str(uuid.uuid4())
    run = AutomationRun.start(run_id=run_id, site_id="site", account_id="acct", trigger_type="manual",
                              config={}, reserved_credits=0, estimated_credits=0, now=datetime.now(timezone.utc))
    run.start_stage(1, 3, datetime.now(timezone.utc))
    store.save(run)
    return run_id


async def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.05)


async def test_relay_publishes_in_order_and_stops_when_its_lock_is_lost(store_and_pool) -> None:
    url, store, pool = store_and_pool
    published: list[dict] = []

    async def publish(envelope: dict, key: str):
        published.append(envelope)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    run_id = await asyncio.to_thread(_record_run, store)
    relay = OutboxRelay(store, pool, publish, url)
    task = asyncio.create_task(relay.run())
    await _wait_for(lambda: _true(len(published) == 2))
    assert [(e["run_id"], e["sequence"], e["type"]) for e in published] == [
        (run_id, 1, "RunStarted"), (run_id, 2, "StageStarted")]
    assert published[1]["prev_hash"] == published[0]["hash"]

    holder = await pool.fetchval(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())", RELAY_LOCK_KEY)
    assert holder is not None
    await pool.execute("SELECT pg_terminate_backend($1)", holder)
    done, _ = await asyncio.wait({task}, timeout=10)
    assert task in done, "the relay kept going without its lock"
    assert task.exception() is not None
    assert await pool.fetchval("SELECT position FROM outbox_position WHERE name = 'kafka'") >= 2


async def _true(value: bool) -> bool:
    return value


def _acknowledged(published: list[dict]):
    async def publish(envelope: dict, key: str):
        published.append(envelope)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done
    return publish


async def _position(pool) -> int:
    return int(await pool.fetchval("SELECT position FROM outbox_position WHERE name = 'kafka'") or 0)


async def test_what_is_stored_while_the_relay_paces_goes_out_in_one_read(store_and_pool) -> None:
    url, store, pool = store_and_pool
    published: list[dict] = []
    # Long enough for three commits to land while the relay waits, on a loaded machine too.
    relay = OutboxRelay(store, pool, _acknowledged(published), url, read_interval=3.0)
    leader = await asyncpg.connect(url)
    try:
        run_id = await asyncio.to_thread(_record_run, store)
        position = await relay.relay_once(leader, 0)
        assert [e["sequence"] for e in published] == [1, 2]

        # Started before the commits: without the pacing it would read nothing and return.
        follow = asyncio.create_task(relay.relay_once(leader, position))
        await asyncio.to_thread(_pause_and_resume, store, run_id, 3)
        assert await follow == position + 3
        assert [(e["sequence"], e["type"]) for e in published[2:]] == [
            (3, "RunPaused"), (4, "RunResumed"), (5, "RunPaused")]
        assert await _position(pool) == position + 3
    finally:
        await leader.close()


async def test_an_unacknowledged_event_and_all_after_it_are_published_again_by_the_next_relay(store_and_pool) -> None:
    url, store, pool = store_and_pool
    run_id = await asyncio.to_thread(_record_run, store)
    await asyncio.to_thread(_pause_and_resume, store, run_id, 3)  # sequences 1..5 in the store
    attempted: list[dict] = []

    async def publish_losing_the_third(envelope: dict, key: str):
        attempted.append(envelope)
        ack = asyncio.get_running_loop().create_future()
        if envelope["sequence"] == 3:
            ack.set_exception(RuntimeError("the producer died with the third in flight"))
        else:
            ack.set_result(None)  # acknowledged, but behind the lost one
        return ack

    first = OutboxRelay(store, pool, publish_losing_the_third, url)
    with pytest.raises(RuntimeError):
        await first.run()
    assert [e["sequence"] for e in attempted] == [1, 2, 3, 4, 5]  # one read, sent together
    # Nothing moved: the events acknowledged before the lost one are published again too
    # (at least once; consumers drop them by event_id).
    assert await _position(pool) == 0

    published: list[dict] = []
    second = OutboxRelay(store, pool, _acknowledged(published), url)
    task = asyncio.create_task(second.run())
    try:
        await _wait_for(lambda: _true(len(published) >= 5))
        assert [e["sequence"] for e in published] == [1, 2, 3, 4, 5]
        assert [e["event_id"] for e in published] == [e["event_id"] for e in attempted]
        await _wait_for(lambda: _at(pool, 5))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_an_event_kafka_failed_to_take_holds_the_position_just_before_it(store_and_pool) -> None:
    url, store, pool = store_and_pool
    run_id = await asyncio.to_thread(_record_run, store)
    await asyncio.to_thread(_pause_and_resume, store, run_id, 3)
    published: list[dict] = []
    broker_down = {"for_third": True}

    async def publish(envelope: dict, key: str):
        ack = asyncio.get_running_loop().create_future()
        if envelope["sequence"] == 3 and broker_down["for_third"]:
            ack.set_exception(KafkaConnectionError("broker went away"))
        else:
            published.append(envelope)
            ack.set_result(None)
        return ack

    relay = OutboxRelay(store, pool, publish, url, retry_refused_after=0.05)
    task = asyncio.create_task(relay.run())
    try:
        await _wait_for(lambda: _at(pool, 2))
        assert await _position(pool) == 2  # not past the third, though 4 and 5 were acknowledged
        broker_down["for_third"] = False
        await _wait_for(lambda: _at(pool, 5))
        # 4 and 5 go again behind 3: the run's order holds on its partition.
        assert [e["sequence"] for e in published][-3:] == [3, 4, 5]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _at(pool, position: int) -> bool:
    return await _position(pool) >= position
