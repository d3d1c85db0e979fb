"""The local services `make services` provides answer, and the topics exist."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from shared.infra.settings import Settings
from shared.infra.topics import ensure_topics, topic_names

pytestmark = pytest.mark.integration


@pytest.fixture
def settings() -> Settings:
    return Settings()


async def test_kafka_answers_and_topics_exist(settings: Settings) -> None:
    # Idempotent: creates nothing when `make services` already did (and tolerates a prefix
    # whose topics do not exist yet).
    await ensure_topics(settings)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        assert cluster["brokers"], "the broker reported no brokers"
        described = {t["topic"]: t for t in await admin.describe_topics(topic_names(settings))}
    finally:
        await admin.close()
    for name in topic_names(settings):
        assert name in described, f"topic {name} missing"
        assert described[name]["error_code"] == 0, described[name]
        assert len(described[name]["partitions"]) >= 3, f"{name} has too few partitions"


async def test_ensure_topics_is_idempotent(settings: Settings) -> None:
    assert await ensure_topics(settings) == []


async def test_postgres_answers(settings: Settings) -> None:
    conn = await asyncpg.connect(settings.database_url, timeout=10)
    try:
        assert await conn.fetchval("SELECT 1") == 1
        assert (await conn.fetchval("SHOW server_version")).split(".")[0].isdigit()
    finally:
        await conn.close()
