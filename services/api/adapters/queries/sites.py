"""The sites of an account."""

from __future__ import annotations

import asyncpg


async def sites_of_account(pool: asyncpg.Pool, account_id: str) -> list[dict[str, str]]:
    rows = await pool.fetch(
        "SELECT id, account_id, name, domain FROM sites WHERE account_id = $1 ORDER BY created_at, id", account_id
    )
    return [dict(r) for r in rows]
