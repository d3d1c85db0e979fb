"""The shared rate limit in PostgreSQL: two limiters, as two processes would hold, share one."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from services.pipeline.adapters.ai.rate_limit_pg import PgRateLimiter
from services.pipeline.domain.rate_limit import Limit
from tests.support.stack import SESSION, drop_database, migrated_database
from tests.support.windows import most_in_a_window

pytestmark = pytest.mark.integration

REQUEST = (1.0, 0.0, 0.0)
EPSILON = 1e-5  # a float8 epoch's rounding


@pytest.fixture(scope="module")
def database():
    name = f"automation_test_rate_limit_{SESSION}"
    yield migrated_database(name)
    drop_database(name)


@pytest.fixture
async def pools(database):
    pools = [await asyncpg.create_pool(database, min_size=1, max_size=4) for _ in range(2)]
    yield pools
    for pool in pools:
        await pool.execute("DELETE FROM ai_rate_limits")
        await pool.close()


async def grant_times(pool: asyncpg.Pool, provider: str) -> list[float]:
    """Reads back each grant the database recorded (last_grant only moves forward)."""
    return [r["at"] for r in await pool.fetch(
        "SELECT extract(epoch FROM last_grant)::float8 AS at FROM ai_rate_limits WHERE provider = $1", provider)]


async def test_two_processes_sharing_a_limit_never_exceed_it_by_5_percent_in_any_window(pools):
    # 600 a minute (a burst of 2) over 10 s windows, five times faster: 3,000 a minute over 2 s.
    limit, window, wanted = Limit(per_second=50, capacity=Limit.per_minute(600).capacity), 2.0, 300
    limiters = [PgRateLimiter(pool, "shared", (limit, None, None)) for pool in pools]
    started: list[tuple[int, float]] = []

    async def caller(n: int) -> None:
        while len(started) < wanted:
            slot = await limiters[n % 2].take(REQUEST)
            await asyncio.sleep(slot - time.monotonic())
            started.append((n % 2, time.monotonic()))

    await asyncio.gather(*(caller(n) for n in range(16)))
    allowed = 1.05 * limit.per_second * window
    assert most_in_a_window([at for _, at in started], window) <= allowed
    assert {who for who, _ in started} == {0, 1}


async def test_grants_are_spaced_by_the_rate_once_the_burst_is_spent(pools):
    limiter = PgRateLimiter(pools[0], "spaced", (Limit.per_minute(60), None, None))  # 1 a second, burst 1
    grants = []
    for _ in range(4):
        await limiter.take(REQUEST)
        grants += await grant_times(pools[0], "spaced")
    assert [round(g - grants[0], 6) for g in grants] == [0.0, 1.0, 2.0, 3.0]


async def test_a_429_cool_down_holds_the_other_process_too(pools):
    first, second = (PgRateLimiter(pool, "cooling", (None, None, None)) for pool in pools)
    await first.take(REQUEST)
    await first.cool_down(30.0)
    slot = await second.take(REQUEST)
    until = await pools[1].fetchval(
        "SELECT extract(epoch FROM cool_down_until - last_grant)::float8 FROM ai_rate_limits WHERE provider = 'cooling'")
    assert until == 0.0 and slot - time.monotonic() > 25.0  # the grant is the cool-down's end, whoever asked


async def test_tokens_used_beyond_the_estimate_are_charged_to_the_next_caller(pools):
    tokens = Limit(per_second=100, capacity=100)
    limiter = PgRateLimiter(pools[0], "tokens", (None, tokens, None))
    await limiter.take((1.0, 100.0, 0.0))
    await limiter.settle((0.0, 500.0, 0.0))  # the call used 600 tokens, not 100
    first = (await grant_times(pools[0], "tokens"))[0]
    await limiter.take((1.0, 100.0, 0.0))
    second = (await grant_times(pools[0], "tokens"))[0]
    assert second - first >= 5.0  # 500 tokens of debt at 100 a second, whatever the clock did


async def test_a_slot_is_on_our_clock_between_asking_and_the_reply_plus_what_the_caller_asked_ahead(pools):
    limiter = PgRateLimiter(pools[0], "placed", (Limit.per_minute(600), None, None))
    slots, round_trips = [], []
    for ahead in (0.0, 0.5):
        asked = time.monotonic()
        slots.append(await limiter.take(REQUEST, ahead))
        received = time.monotonic()
        round_trips.append(received - asked)
        # Never before the database granted it, and it granted it while we waited for the reply.
        assert asked + ahead - EPSILON <= slots[-1] <= received + ahead + EPSILON
    # Nor before the grant asked ahead, but for how much a faster round trip may have lowered the
    # offset's upper bound since (ClockOffset): at most the widest round trip seen before.
    assert await limiter.take(REQUEST) >= slots[-1] - max(round_trips) - EPSILON
