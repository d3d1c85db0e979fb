"""The rate-limited provider: the real OpenAI adapter behind the PostgreSQL limiter, against
the local fake OpenAI server. A 429 costs time, not the call, and slows the other process too."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from services.pipeline.adapters.ai.openai_provider import OpenAIProvider
from services.pipeline.adapters.ai.rate_limit_pg import PgRateLimiter
from services.pipeline.adapters.ai.rate_limited import RateLimitedAI
from services.pipeline.application.ai_port import AIError, ClusterInput
from services.pipeline.domain.rate_limit import Limit
from shared.infra.settings import Settings
from tests.support.fake_openai import OK, FakeOpenAI, Status
from tests.support.stack import SESSION, drop_database, migrated_database

pytestmark = pytest.mark.integration

CLUSTER = ClusterInput("c1", "Moka Pot", "Stovetop.", ("moka pot", "moka pot ratio"))


@pytest.fixture(scope="module")
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def database():
    name = f"automation_test_rate_limited_ai_{SESSION}"
    yield migrated_database(name)
    drop_database(name)


@pytest.fixture
async def providers(fake, database):
    """Two providers as two pipeline processes would hold them: own client, own pool."""
    fake.reset()
    settings = Settings(ai_provider="openai", openai_api_key="sk-test", openai_base_url=fake.base_url,
                        openai_max_retries=2, openai_timeout_seconds=5.0)
    pools = [await asyncpg.create_pool(database, min_size=1, max_size=2) for _ in range(2)]
    limits = (None, Limit(per_second=1000, capacity=1000), None)
    made = [RateLimitedAI(OpenAIProvider(settings), PgRateLimiter(pool, "openai", limits), tries=4) for pool in pools]
    yield made
    for provider, pool in zip(made, pools):
        await provider.aclose()
        await pool.execute("DELETE FROM ai_rate_limits")
        await pool.close()
    fake.reset()


async def test_a_rate_limited_call_is_tried_again_and_bills_only_the_answer(fake, providers):
    fake.script(Status(429), Status(429, retry_after_ms=None), OK)
    result = await providers[0].generate_ideas(CLUSTER)
    assert [r.usage is None for r in fake.requests] == [True, True, False]
    assert result.usage.prompt_tokens == fake.requests[-1].usage["prompt_tokens"]


async def test_the_call_fails_once_its_retry_budget_is_spent(fake, providers):
    fake.script(*[Status(429, retry_after_ms=1)] * 4)
    with pytest.raises(AIError, match="provider_rate_limited"):
        await providers[0].generate_ideas(CLUSTER)
    assert len(fake.requests) == 4


async def test_a_429_to_one_process_holds_back_the_other(fake, providers, database):
    fake.script(Status(429, retry_after_ms=600))
    first = asyncio.create_task(providers[0].generate_ideas(CLUSTER))
    async with asyncio.timeout(10):
        while not await _cooling_down(database):
            await asyncio.sleep(0.01)
    refused_at = fake.requests[0].at
    await providers[1].generate_ideas(CLUSTER)
    await first
    later = [r.at - refused_at for r in fake.requests[1:]]
    assert len(later) == 2 and min(later) >= 0.55  # both waited out the cool-down the first one met


async def _cooling_down(database: str) -> bool:
    conn = await asyncpg.connect(database)
    try:
        return bool(await conn.fetchval(
            "SELECT cool_down_until > clock_timestamp() FROM ai_rate_limits WHERE provider = 'openai'"))
    finally:
        await conn.close()
