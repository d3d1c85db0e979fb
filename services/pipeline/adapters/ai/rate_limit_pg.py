"""The provider rate limit in PostgreSQL: one row per provider, taken with one UPDATE.

The rule is ``domain/rate_limit.py``'s, run where every pipeline process meets: the row
lock orders the callers, the database's clock is the only clock, and each statement is
one round trip, so the lock is held for microseconds. Callers sleep on their own;
nothing is held while they wait. A grant is an instant on the database's clock, handed to
the caller on its own (``time.monotonic``), so it can tell how late it is: a reply held up
by a slow commit arrives after the slot it carries.
"""

from __future__ import annotations

import time

import asyncpg

from ...domain.rate_limit import ClockOffset, Costs, Limits

# $1 provider; by kind (requests, tokens, images): $2-$4 rates per second, $5-$7 capacities,
# $8-$10 costs; $11 how far ahead of now the call may start at the earliest. A NULL rate
# (unlimited, or nothing drawn) makes its terms NULL: GREATEST skips them and COALESCE keeps
# that bucket as it was. It returns the slot and the clock it was read against.
TAKE = """
UPDATE ai_rate_limits AS r
SET (requests_full_at, tokens_full_at, images_full_at, last_grant) = (
    SELECT COALESCE(GREATEST(r.requests_full_at, g.at) + $8::float8 / $2::float8 * interval '1 second', r.requests_full_at),
           COALESCE(GREATEST(r.tokens_full_at, g.at) + $9::float8 / $3::float8 * interval '1 second', r.tokens_full_at),
           COALESCE(GREATEST(r.images_full_at, g.at) + $10::float8 / $4::float8 * interval '1 second', r.images_full_at),
           g.at
    FROM (SELECT GREATEST(
              clock_timestamp() + $11::float8 * interval '1 second', r.last_grant, r.cool_down_until,
              r.requests_full_at - ($5::float8 - LEAST($8::float8, $5::float8)) / $2::float8 * interval '1 second',
              r.tokens_full_at - ($6::float8 - LEAST($9::float8, $6::float8)) / $3::float8 * interval '1 second',
              r.images_full_at - ($7::float8 - LEAST($10::float8, $7::float8)) / $4::float8 * interval '1 second'
          ) AS at) AS g)
WHERE r.provider = $1
RETURNING extract(epoch FROM r.last_grant)::float8 AS slot, extract(epoch FROM clock_timestamp())::float8 AS now
"""

# $1 provider; $2-$4 rates per second, $5-$7 extra costs (negative: given back).
SETTLE = """
UPDATE ai_rate_limits
SET requests_full_at = COALESCE(GREATEST(requests_full_at, clock_timestamp()) + $5::float8 / $2::float8 * interval '1 second', requests_full_at),
    tokens_full_at = COALESCE(GREATEST(tokens_full_at, clock_timestamp()) + $6::float8 / $3::float8 * interval '1 second', tokens_full_at),
    images_full_at = COALESCE(GREATEST(images_full_at, clock_timestamp()) + $7::float8 / $4::float8 * interval '1 second', images_full_at)
WHERE provider = $1
"""

COOL_DOWN = """
UPDATE ai_rate_limits
SET cool_down_until = GREATEST(cool_down_until, clock_timestamp() + $2::float8 * interval '1 second')
WHERE provider = $1
"""


class PgRateLimiter:
    """Every process that names the same ``provider`` shares one limit and one cool-down."""

    def __init__(self, pool: asyncpg.Pool, provider: str, limits: Limits) -> None:
        self._pool = pool
        self._provider = provider
        self.limits = limits
        self._row_exists = False
        self._offset = ClockOffset()

    async def take(self, costs: Costs, ahead: float = 0.0) -> float:
        """Reserve ``costs`` for a call ``ahead`` seconds from now or later; returns the instant
        (``time.monotonic()``) it may start, which a late reply may already have passed."""
        await self._ensure_row()
        rates = [limit.per_second if limit and cost > 0 else None for limit, cost in zip(self.limits, costs)]
        capacities = [limit.capacity if limit else None for limit in self.limits]
        async with self._pool.acquire() as conn:
            asked = time.monotonic()
            granted = await conn.fetchrow(TAKE, self._provider, *rates, *capacities, *costs, ahead)
            received = time.monotonic()
        self._offset = self._offset.observe(asked, granted["now"], received)
        return self._offset.ours(granted["slot"])

    async def settle(self, extra: Costs) -> None:
        rates = [limit.per_second if limit and cost else None for limit, cost in zip(self.limits, extra)]
        if any(rates):
            await self._pool.execute(SETTLE, self._provider, *rates, *extra)

    async def cool_down(self, seconds: float) -> None:
        await self._ensure_row()
        await self._pool.execute(COOL_DOWN, self._provider, seconds)

    async def _ensure_row(self) -> None:
        if not self._row_exists:
            await self._pool.execute(
                "INSERT INTO ai_rate_limits (provider) VALUES ($1) ON CONFLICT DO NOTHING", self._provider
            )
            self._row_exists = True
