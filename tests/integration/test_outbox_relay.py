"""The outbox relay against real PostgreSQL: publishes the store in order, and stops when it
loses the lock that makes it the only relay."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone

import pytest

from services.pipeline.adapters.event_store import RunStore
from services.pipeline.adapters.outbox_relay import RELAY_LOCK_KEY, OutboxRelay
from services.pipeline.domain.run import AutomationRun
from shared.infra.db import create_pool
from shared.infra.settings import Settings
from tests.support.stack import SESSION, drop_database, migrated_database

pytestmark = pytest.mark.integration


@pytest.fixture
async def store_and_pool():
    name = f"automation_test_relay_{SESSION}"
    url = migrated_database(name)
    store = RunStore.from_settings(Settings(database_url=url))
    pool = await create_pool(url)
    yield url, store, pool
    await pool.close()
    store.close()
    drop_database(name)


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
