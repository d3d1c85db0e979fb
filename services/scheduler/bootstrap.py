"""The scheduler's composition root: builds the real tick from settings."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import AsyncIterator

from faststream.kafka import KafkaBroker

from services.scheduler.adapters.kafka_publisher import KafkaCommandPublisher
from services.scheduler.adapters.pg_repository import PgScheduleRepository
from services.scheduler.application.ports import Clock
from services.scheduler.application.tick import SchedulerTick
from shared.infra.db import create_pool
from shared.infra.settings import Settings
from shared.observability.brokers import broker_middlewares


def utcnow() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def build(settings: Settings, clock: Clock = utcnow) -> AsyncIterator[SchedulerTick]:
    """A tick wired to PostgreSQL and Kafka; closes both on exit."""
    pool = await create_pool(settings.database_url, min_size=1, max_size=4)
    broker = KafkaBroker(settings.kafka_bootstrap_servers, enable_idempotence=True,
                         middlewares=broker_middlewares(settings, "scheduler"))
    try:
        await broker.start()
        publisher = KafkaCommandPublisher(broker, settings.commands_topic)
        yield SchedulerTick(PgScheduleRepository(pool), publisher, clock)
    finally:
        await broker.stop()
        await pool.close()
