"""Tenancy: accounts, their credits, sites and tokens, and what belongs to which account."""

from __future__ import annotations

import uuid

import asyncpg

from services.api.application.errors import not_found


async def require_site(pool: asyncpg.Pool, site_id: str, account_id: str) -> None:
    """404 for a site that does not exist and for one of another account alike."""
    if not await pool.fetchval("SELECT 1 FROM sites WHERE id = $1 AND account_id = $2", site_id, account_id):
        raise not_found("site")


async def create_account(pool: asyncpg.Pool, name: str, credits: int) -> str:
    account_id = str(uuid.uuid4())
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("INSERT INTO accounts (id, name, credits) VALUES ($1, $2, $3)", account_id, name, credits)
        if credits > 0:  # the ledger records movements; opening with nothing moves nothing
            await conn.execute(
                "INSERT INTO credit_ledger (entry_key, account_id, kind, amount) VALUES ($1, $2, 'topup', $3)",
                f"{account_id}:opening", account_id, credits,
            )
    return account_id


async def set_max_ai_concurrency(pool: asyncpg.Pool, account_id: str, ceiling: int) -> dict:
    """The account after the change; 404 for an unknown account."""
    row = await pool.fetchrow("UPDATE accounts SET max_ai_concurrency = $2 WHERE id = $1"
                              " RETURNING id, name, credits, max_ai_concurrency", account_id, ceiling)
    if row is None:
        raise not_found("account")
    return dict(row)


async def add_credits(pool: asyncpg.Pool, account_id: str, amount: int) -> int:
    """The new balance; 404 for an unknown account."""
    async with pool.acquire() as conn, conn.transaction():
        balance = await conn.fetchval(
            "UPDATE accounts SET credits = credits + $2 WHERE id = $1 RETURNING credits", account_id, amount
        )
        if balance is None:
            raise not_found("account")
        await conn.execute(
            "INSERT INTO credit_ledger (entry_key, account_id, kind, amount) VALUES ($1, $2, 'topup', $3)",
            f"{account_id}:topup:{uuid.uuid4()}", account_id, amount,
        )
    return int(balance)


async def create_site(pool: asyncpg.Pool, account_id: str, name: str, domain: str) -> str:
    site_id = str(uuid.uuid4())
    created = await pool.fetchval(
        "INSERT INTO sites (id, account_id, name, domain) SELECT $1, id, $3, $4 FROM accounts WHERE id = $2"
        " RETURNING id",
        site_id, account_id, name, domain,
    )
    if created is None:
        raise not_found("account")
    return site_id


async def create_token(pool: asyncpg.Pool, account_id: str, token_hash: str, role: str) -> None:
    created = await pool.fetchval(
        "INSERT INTO api_tokens (token_hash, account_id, role) SELECT $1, id, $3 FROM accounts WHERE id = $2"
        " RETURNING account_id",
        token_hash, account_id, role,
    )
    if created is None:
        raise not_found("account")


async def token_owner(pool: asyncpg.Pool, token_hash: str) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT account_id, role FROM api_tokens WHERE token_hash = $1", token_hash)
