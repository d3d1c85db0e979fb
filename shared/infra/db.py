"""PostgreSQL helpers shared by the services (asyncpg side)."""

from __future__ import annotations

import json
from importlib import resources

import asyncpg

SCHEMA_LOCK_KEY = 7_241_001  # any constant: serialises concurrent start-ups applying the schema


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(database_url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        database_url, min_size=min_size, max_size=max_size, init=_init_connection
    )


def schema_sql() -> str:
    return resources.files("shared.infra").joinpath("schema.sql").read_text()


async def apply_schema(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK_KEY)
            await conn.execute(schema_sql())
    finally:
        await conn.close()
