"""PostgreSQL helpers shared by the services (asyncpg side)."""

from __future__ import annotations

import json

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Gives a connection back as it is: asyncpg has already rolled back an open transaction."""


async def create_pool(database_url: str, *, min_size: int = 1, max_size: int = 10,
                      reset_sessions: bool = True) -> asyncpg.Pool:
    """``reset_sessions=False`` spares a round trip per release (asyncpg's reset query) for
    users that leave no session state behind: no LISTEN, advisory lock, SET or cursor."""
    return await asyncpg.create_pool(
        database_url, min_size=min_size, max_size=max_size, init=_init_connection,
        reset=None if reset_sessions else _keep_session,
    )

