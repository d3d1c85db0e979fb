"""Read-side queries of the live stream: the site's position, new log lines, run snapshots."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.api.adapters.queries.runs import RUN_FIELDS

# A stream's run event is the run as GET runs/{id} shows it, plus what it is working on.
_SNAPSHOT_FIELDS = f"{RUN_FIELDS}, processing"


async def head(pool: asyncpg.Pool, site_id: str) -> int:
    """The site's last stream position (0 before its first event)."""
    position = await pool.fetchval("SELECT position FROM site_stream_position WHERE site_id = $1", site_id)
    return int(position or 0)


async def latest_run_start(pool: asyncpg.Pool, site_id: str) -> int | None:
    """The position just before the site's latest run's first line, if it has one."""
    first = await pool.fetchval(
        "SELECT l.stream_position FROM run_log_lines l"
        " WHERE l.run_id = (SELECT run_id FROM run_view WHERE site_id = $1 ORDER BY started_at DESC LIMIT 1)"
        " AND l.stream_position IS NOT NULL ORDER BY l.sequence LIMIT 1",
        site_id,
    )
    return int(first) - 1 if first is not None else None


async def lines_after(pool: asyncpg.Pool, site_id: str, position: int, limit: int) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT stream_position, run_id, sequence, line FROM run_log_lines"
        " WHERE site_id = $1 AND stream_position > $2 ORDER BY stream_position LIMIT $3",
        site_id, position, limit,
    )


async def snapshots(pool: asyncpg.Pool, run_ids: list[str]) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        f"SELECT {_SNAPSHOT_FIELDS} FROM run_view WHERE run_id = ANY($1::text[]) ORDER BY started_at",
        run_ids,
    )
    return [dict(r) for r in rows]
