"""The rate limit's sliding window in PostgreSQL, so every API replica counts the same requests.

Each counted request is a row (account_id, at); an account's rows older than the window are
pruned whenever it calls. An advisory lock per account serialises its checks, so two replicas
can't both admit the last request of a window.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg


class PgRateWindow:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def admit(self, account_id: str, limit: int, window_seconds: int) -> float | None:
        async with self.pool.acquire() as conn, conn.transaction():
            # The clock is read once the account's lock is held: hits are counted in lock order.
            now = await conn.fetchval(
                "SELECT clock_timestamp() FROM (SELECT pg_advisory_xact_lock(hashtextextended('api_rate:' || $1, 0))) l",
                account_id)
            since = now - timedelta(seconds=window_seconds)
            await conn.execute("DELETE FROM api_rate_hits WHERE account_id = $1 AND at <= $2", account_id, since)
            counted, oldest = await conn.fetchrow(
                "SELECT count(*), min(at) FROM api_rate_hits WHERE account_id = $1", account_id)
            if counted >= limit:
                return (oldest - since).total_seconds()
            await conn.execute("INSERT INTO api_rate_hits (account_id, at) VALUES ($1, $2)", account_id, now)
            return None

