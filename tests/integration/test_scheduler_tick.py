"""The scheduler tick against real PostgreSQL and real Kafka, with a controllable clock."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any, AsyncIterator

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream.kafka import KafkaBroker

from services.scheduler.adapters.kafka_publisher import KafkaCommandPublisher
from services.scheduler.adapters.pg_repository import PgScheduleRepository
from services.scheduler.application.ports import CommandPublisher
from services.scheduler.application.tick import SchedulerTick, scheduled_ids
from shared.events.commands import StartRun
from shared.infra.db import create_pool
from shared.infra.settings import Settings
from shared.infra.topics import delete_topics, ensure_topics
from tests.support.stack import SESSION, drop_database, migrated_database

pytestmark = pytest.mark.integration
DATABASE = "automation_test_sched_tick"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class CommandLog:
    """Everything on the commands topic so far, read up to the end offsets (no sleeping)."""

    def __init__(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        self.consumer, self.partitions, self.seen = consumer, partitions, []

    async def for_site(self, site_id: str) -> list[dict[str, Any]]:
        ends = await self.consumer.end_offsets(self.partitions)
        while [tp for tp in self.partitions if await self.consumer.position(tp) < ends[tp]]:
            for records in (await self.consumer.getmany(timeout_ms=500)).values():
                self.seen += [json.loads(r.value) for r in records]
        return [c for c in self.seen if c["site_id"] == site_id]


class SlowPublisher:
    """Holds each publish a moment, so that racing replicas overlap inside their claims."""

    def __init__(self, inner: CommandPublisher) -> None:
        self.inner = inner

    async def publish(self, command: StartRun) -> None:
        await asyncio.sleep(0.05)
        await self.inner.publish(command)


class CrashingPublisher:
    """Fails like a process dying before (or just after) the broker took the command."""

    def __init__(self, inner: CommandPublisher, after_publish: bool) -> None:
        self.inner, self.after_publish = inner, after_publish

    async def publish(self, command: StartRun) -> None:
        if self.after_publish:
            await self.inner.publish(command)
        raise ConnectionError("simulated crash")


@pytest.fixture(scope="module")
async def settings() -> AsyncIterator[Settings]:
    url = migrated_database(DATABASE)
    settings = Settings(database_url=url, kafka_topic_prefix=f"test-{SESSION}-schedtick.")
    await ensure_topics(settings)
    yield settings
    await delete_topics(settings)
    drop_database(DATABASE)


@pytest.fixture(scope="module")
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings.database_url)
    yield pool
    await pool.close()


async def _started_broker(settings: Settings) -> KafkaBroker:
    broker = KafkaBroker(settings.kafka_bootstrap_servers, enable_idempotence=True)
    await broker.start()
    return broker


@pytest.fixture(scope="module")
async def publisher(settings: Settings) -> AsyncIterator[KafkaCommandPublisher]:
    broker = await _started_broker(settings)
    yield KafkaCommandPublisher(broker, settings.commands_topic)
    await broker.stop()


@pytest.fixture(scope="module")
async def commands(settings: Settings) -> AsyncIterator[CommandLog]:
    topic = settings.commands_topic
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(await producer.partitions_for(topic))]
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    yield CommandLog(consumer, partitions)
    await consumer.stop()


@pytest.fixture(autouse=True)
async def empty_tables(pool: asyncpg.Pool) -> None:
    # Every tick reads every config, so one test's sites must not fire in the next.
    await pool.execute("TRUNCATE schedule_slots, pipeline_runs, automation_config, sites, accounts CASCADE")


def tick_at(pool: asyncpg.Pool, publisher: CommandPublisher, clock: FakeClock) -> SchedulerTick:
    return SchedulerTick(PgScheduleRepository(pool), publisher, clock)


async def add_site(pool: asyncpg.Pool, frequency: str = "daily", scheduled_time: str = "02:00",
                   enabled: bool = True) -> str:
    account_id, site_id = f"acc-{uuid.uuid4()}", f"site-{uuid.uuid4()}"
    await pool.execute("INSERT INTO accounts (id, name, credits) VALUES ($1, 'Acme', 1000)", account_id)
    await pool.execute("INSERT INTO sites (id, account_id, name, domain) VALUES ($1, $2, 'Blog', 'b.example')",
                       site_id, account_id)
    await pool.execute("INSERT INTO automation_config (site_id, is_enabled, frequency, scheduled_time)"
                       " VALUES ($1, $2, $3, $4)", site_id, enabled, frequency, scheduled_time)
    return site_id


async def config_row(pool: asyncpg.Pool, site_id: str) -> asyncpg.Record:
    return await pool.fetchrow("SELECT * FROM automation_config WHERE site_id = $1", site_id)


async def slot_rows(pool: asyncpg.Pool, site_id: str) -> list[tuple[datetime, str, str | None]]:
    rows = await pool.fetch("SELECT slot_start, outcome, run_id FROM schedule_slots WHERE site_id = $1"
                            " ORDER BY slot_start", site_id)
    return [(r["slot_start"], r["outcome"], r["run_id"]) for r in rows]


async def mark_run(pool: asyncpg.Pool, site_id: str, status: str, run_id: str | None = None) -> str:
    run_id = run_id or str(uuid.uuid4())
    await pool.execute(
        "INSERT INTO pipeline_runs (run_id, site_id, account_id, status) VALUES ($1, $2, 'acc', $3)"
        " ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status", run_id, site_id, status)
    return run_id


# --- due and not due, by frequency --------------------------------------------------------

@pytest.mark.parametrize(("frequency", "now", "slot", "next_run"), [
    ("daily", utc(2025, 3, 5, 2, 0, 30), utc(2025, 3, 5, 2), utc(2025, 3, 6, 2)),
    ("daily", utc(2025, 3, 5, 1, 59, 59), None, utc(2025, 3, 5, 2)),
    ("daily", utc(2025, 3, 5, 3, 0, 1), None, utc(2025, 3, 6, 2)),  # past the 1 h window
    ("weekly", utc(2025, 3, 3, 2, 0, 10), utc(2025, 3, 3, 2), utc(2025, 3, 10, 2)),  # a Monday
    ("weekly", utc(2025, 3, 4, 2, 0, 10), None, utc(2025, 3, 10, 2)),  # a Tuesday
    ("monthly", utc(2025, 4, 1, 2, 0, 5), utc(2025, 4, 1, 2), utc(2025, 5, 1, 2)),
    ("monthly", utc(2025, 4, 2, 2, 0, 5), None, utc(2025, 5, 1, 2)),
    ("monthly", utc(2025, 12, 1, 2, 59), utc(2025, 12, 1, 2), utc(2026, 1, 1, 2)),
])
async def test_a_due_slot_starts_one_scheduled_run(
    pool, publisher, commands, frequency, now, slot, next_run,
) -> None:
    site_id = await add_site(pool, frequency)
    report = await tick_at(pool, publisher, FakeClock(now))()

    config = await config_row(pool, site_id)
    assert config["next_run_at"] == next_run
    sent = await commands.for_site(site_id)
    if slot is None:
        assert (sent, report.started, config["last_run_at"]) == ([], [], None)
        assert await slot_rows(pool, site_id) == []
        return
    run_id, command_id = scheduled_ids(site_id, slot)
    assert [(c["type"], c["trigger_type"], c["run_id"], c["command_id"]) for c in sent] == [
        ("StartRun", "scheduled", run_id, command_id)]
    assert report.started == [(site_id, slot, run_id)]
    assert config["last_run_at"] is None  # set by the pipeline once it admits the run, not here
    assert await slot_rows(pool, site_id) == [(slot, "started", run_id)]


async def test_a_disabled_config_never_fires_and_has_no_next_run(pool, publisher, commands) -> None:
    site_id = await add_site(pool)
    tick = tick_at(pool, publisher, FakeClock(utc(2025, 3, 5, 1)))
    await tick()
    assert (await config_row(pool, site_id))["next_run_at"] == utc(2025, 3, 5, 2)

    await pool.execute("UPDATE automation_config SET is_enabled = false WHERE site_id = $1", site_id)
    tick.clock.now = utc(2025, 3, 5, 2, 0, 30)
    await tick()
    assert (await config_row(pool, site_id))["next_run_at"] is None
    assert await commands.for_site(site_id) == []


# --- skips ------------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["running", "paused"])
async def test_a_site_with_an_active_run_is_skipped_and_logged(
    pool, publisher, commands, caplog, status,
) -> None:
    site_id = await add_site(pool)
    active = await mark_run(pool, site_id, status)
    tick = tick_at(pool, publisher, FakeClock(utc(2025, 3, 5, 2, 0, 30)))
    with caplog.at_level(logging.INFO, logger="scheduler"):
        report = await tick()

    slot = utc(2025, 3, 5, 2)
    assert report.skipped == [(site_id, slot, active)]
    assert f"site {site_id}: slot {slot.isoformat()} skipped, run {active} is active" in caplog.text
    assert await slot_rows(pool, site_id) == [(slot, "skipped_active", None)]
    assert (await config_row(pool, site_id))["last_run_at"] is None
    # The skip is final for that slot, even once the run ends; the next slot fires.
    await mark_run(pool, site_id, "completed", active)
    tick.clock.now = utc(2025, 3, 5, 2, 30)
    await tick()
    assert await commands.for_site(site_id) == []
    tick.clock.now = utc(2025, 3, 6, 2, 0, 5)
    await tick()
    assert [c["run_id"] for c in await commands.for_site(site_id)] == [scheduled_ids(site_id, utc(2025, 3, 6, 2))[0]]


async def test_a_slot_already_taken_is_not_fired_again(pool, publisher, commands) -> None:
    site_id = await add_site(pool)
    for now in (utc(2025, 3, 5, 2, 0, 10), utc(2025, 3, 5, 2, 0, 30), utc(2025, 3, 5, 2, 59)):
        # A new tick each time, as after a restart: the claim lives in the database.
        await tick_at(pool, publisher, FakeClock(now))()
    assert len(await commands.for_site(site_id)) == 1
    assert len(await slot_rows(pool, site_id)) == 1


# --- replicas and crashes -----------------------------------------------------------------

async def test_two_replicas_racing_start_one_run_per_slot(pool, settings, commands) -> None:
    sites = [await add_site(pool) for _ in range(5)]
    clock = FakeClock(utc(2025, 3, 5, 2, 0, 30))
    pools = [await create_pool(settings.database_url) for _ in range(2)]
    brokers = [await _started_broker(settings) for _ in range(2)]
    try:
        replicas = [tick_at(p, SlowPublisher(KafkaCommandPublisher(b, settings.commands_topic)), clock)
                    for p, b in zip(pools, brokers)]
        reports = await asyncio.gather(*(replica() for replica in replicas))
        reports += await asyncio.gather(*(replica() for replica in replicas))
    finally:
        for replica_pool in pools:
            await replica_pool.close()
        for broker in brokers:
            await broker.stop()

    started = sorted(site for report in reports for site, _, _ in report.started)
    assert started == sorted(sites)
    for site_id in sites:
        assert len(await commands.for_site(site_id)) == 1, site_id


@pytest.mark.parametrize("after_publish", [False, True])
async def test_a_crash_before_the_claim_commits_is_retried_with_the_same_ids(
    pool, publisher, commands, after_publish,
) -> None:
    site_id = await add_site(pool)
    slot = utc(2025, 3, 5, 2)
    clock = FakeClock(utc(2025, 3, 5, 2, 0, 30))
    report = await tick_at(pool, CrashingPublisher(publisher, after_publish), clock)()
    assert report.failed == [site_id]
    assert await slot_rows(pool, site_id) == []
    assert (await config_row(pool, site_id))["last_run_at"] is None
    run_id, command_id = scheduled_ids(site_id, slot)
    if after_publish:  # the pipeline may have admitted it already: that is not "another run"
        await mark_run(pool, site_id, "running", run_id)

    clock.now = utc(2025, 3, 5, 2, 1)
    await tick_at(pool, publisher, clock)()
    sent = [(c["run_id"], c["command_id"]) for c in await commands.for_site(site_id)]
    assert sent == [(run_id, command_id)] * (2 if after_publish else 1)
    assert await slot_rows(pool, site_id) == [(slot, "started", run_id)]


async def test_a_bad_config_row_does_not_stop_the_others(pool, publisher, commands) -> None:
    broken = await add_site(pool, scheduled_time="25:00")  # the table does not check the format
    healthy = await add_site(pool)
    report = await tick_at(pool, publisher, FakeClock(utc(2025, 3, 5, 2, 0, 30)))()
    assert report.failed == [broken]
    assert len(await commands.for_site(healthy)) == 1


# --- config changes ---------------------------------------------------------------------

async def test_a_config_change_takes_effect_for_the_next_slot(pool, publisher, commands) -> None:
    site_id = await add_site(pool)
    tick = tick_at(pool, publisher, FakeClock(utc(2025, 3, 5, 2, 0, 30)))
    await tick()
    await pool.execute("UPDATE automation_config SET scheduled_time = '05:00' WHERE site_id = $1", site_id)

    tick.clock.now = utc(2025, 3, 5, 3)
    await tick()
    # Today already had its run: the moved time applies from tomorrow.
    assert (await config_row(pool, site_id))["next_run_at"] == utc(2025, 3, 6, 5)
    tick.clock.now = utc(2025, 3, 5, 5, 0, 20)
    await tick()
    assert [slot for slot, _, _ in await slot_rows(pool, site_id)] == [utc(2025, 3, 5, 2)]
    tick.clock.now = utc(2025, 3, 6, 5, 0, 20)
    await tick()
    assert [slot for slot, _, _ in await slot_rows(pool, site_id)] == [utc(2025, 3, 5, 2), utc(2025, 3, 6, 5)]

    await pool.execute("UPDATE automation_config SET frequency = 'weekly' WHERE site_id = $1", site_id)
    tick.clock.now = utc(2025, 3, 7, 5, 0, 20)  # a Friday: the daily slot no longer exists
    await tick()
    assert (await config_row(pool, site_id))["next_run_at"] == utc(2025, 3, 10, 5)
    expected = [scheduled_ids(site_id, slot)[0] for slot in (utc(2025, 3, 5, 2), utc(2025, 3, 6, 5))]
    assert [c["run_id"] for c in await commands.for_site(site_id)] == expected


async def test_next_run_at_from_a_stale_read_does_not_overwrite_an_edit(pool) -> None:
    site_id = await add_site(pool)
    repo = PgScheduleRepository(pool)
    [stale] = await repo.configs()
    await pool.execute("UPDATE automation_config SET scheduled_time = '05:00', next_run_at = $2"
                       " WHERE site_id = $1", site_id, utc(2025, 3, 5, 5))
    await repo.set_next_run_at(stale, utc(2025, 3, 5, 2))
    assert (await config_row(pool, site_id))["next_run_at"] == utc(2025, 3, 5, 5)
