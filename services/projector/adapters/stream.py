"""The live stream's side of a projection: positions for the new log lines, and the wake-up.

Both happen inside the projector's transaction. The position row stays locked until
commit, so two transactions for one site take their positions in commit order; and
PostgreSQL delivers the NOTIFY only once the transaction has committed, so a listener
that wakes up finds the rows it was told about.
"""

from __future__ import annotations

import asyncpg

from shared.infra.channels import STREAM


async def claim_positions(conn: asyncpg.Connection, site_id: str, count: int) -> int:
    """Reserve ``count`` consecutive positions of the site's stream; returns the first."""
    last = await conn.fetchval(
        "INSERT INTO site_stream_position (site_id, position) VALUES ($1, $2)"
        " ON CONFLICT (site_id) DO UPDATE SET position = site_stream_position.position + EXCLUDED.position"
        " RETURNING position",
        site_id, count,
    )
    return int(last) - count + 1


async def notify(conn: asyncpg.Connection, site_id: str) -> None:
    # Repeats of one payload in a transaction are folded into one notification by PostgreSQL.
    await conn.execute("SELECT pg_notify($1, $2)", STREAM, site_id)
