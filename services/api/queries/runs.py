"""Read-side queries of runs: plain SQL over the projector's read models."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import asyncpg

_RUN_FIELDS = (
    "run_id, site_id, account_id, trigger_type, status, current_stage, started_at, paused_at,"
    " resumed_at, cancelled_at, completed_at, total_credits_used, error_message, pause_reason,"
    " stage_results"
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def run_out(row: asyncpg.Record) -> dict[str, Any]:
    run = dict(row)
    run.pop("account_id", None)
    for key in ("started_at", "paused_at", "resumed_at", "cancelled_at", "completed_at"):
        run[key] = _iso(run[key])
    return run


async def current_run(pool: asyncpg.Pool, site_id: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        f"SELECT {_RUN_FIELDS} FROM run_view WHERE site_id = $1 AND status IN ('running', 'paused')"
        " ORDER BY started_at DESC LIMIT 1",
        site_id,
    )
    return run_out(row) if row else None


async def history(pool: asyncpg.Pool, site_id: str, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    rows = await pool.fetch(
        f"SELECT {_RUN_FIELDS} FROM run_view WHERE site_id = $1 ORDER BY started_at DESC, run_id"
        " LIMIT $2 OFFSET $3",
        site_id, limit, offset,
    )
    total = await pool.fetchval("SELECT count(*) FROM run_view WHERE site_id = $1", site_id)
    return [run_out(r) for r in rows], int(total)


async def run_of_account(pool: asyncpg.Pool, run_id: str, account_id: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        f"SELECT {_RUN_FIELDS} FROM run_view WHERE run_id = $1 AND account_id = $2", run_id, account_id
    )
    return run_out(row) if row else None


async def processing(pool: asyncpg.Pool, site_id: str) -> dict[str, Any] | None:
    return await pool.fetchval(
        "SELECT processing FROM run_view WHERE site_id = $1 AND status = 'running'"
        " ORDER BY started_at DESC LIMIT 1",
        site_id,
    )


async def log_lines(pool: asyncpg.Pool, run_id: str, lines: int) -> list[str]:
    rows = await pool.fetch(
        "SELECT line FROM (SELECT line, sequence, line_no FROM run_log_lines WHERE run_id = $1"
        " ORDER BY sequence DESC, line_no DESC LIMIT $2) recent ORDER BY sequence, line_no",
        run_id, lines,
    )
    return [r["line"] for r in rows]


async def events(pool: asyncpg.Pool, run_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT sequence, type, occurred_at, data, hash, prev_hash FROM run_events"
        " WHERE run_id = $1 ORDER BY sequence",
        run_id,
    )
    return [dict(r, occurred_at=_iso(r["occurred_at"])) for r in rows]


async def wait_for_run(pool: asyncpg.Pool, run_id: str, timeout: float = 5.0) -> bool:
    """Wait until the projector has the run, so the caller's next read finds it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await pool.fetchval("SELECT 1 FROM run_view WHERE run_id = $1", run_id):
            return True
        await asyncio.sleep(0.02)
    return False
