"""Read-side queries of runs: plain SQL over the projector's read models."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg

from services.api.adapters.stream_hub import StreamHub
from services.api.application.errors import invalid
from shared.run_view import advance

FALLBACK_POLL_SECONDS = 0.25  # while no notification comes (the hub reconnecting)
RUN_FIELDS = (
    "run_id, site_id, trigger_type, status, current_stage, started_at, paused_at,"
    " resumed_at, cancelled_at, completed_at, total_credits_used, error_message, pause_reason,"
    " stage_results"
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


async def current_run(pool: asyncpg.Pool, site_id: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        f"SELECT {RUN_FIELDS} FROM run_view WHERE site_id = $1 AND status IN ('running', 'paused')"
        " ORDER BY started_at DESC LIMIT 1",
        site_id,
    )
    return dict(row) if row else None


async def history(pool: asyncpg.Pool, site_id: str, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    rows = await pool.fetch(
        f"SELECT {RUN_FIELDS}, count(*) OVER () AS total FROM run_view WHERE site_id = $1"
        " ORDER BY started_at DESC, run_id LIMIT $2 OFFSET $3",
        site_id, limit, offset,
    )
    total = rows[0]["total"] if rows else await pool.fetchval(
        "SELECT count(*) FROM run_view WHERE site_id = $1", site_id)
    return [dict(r) for r in rows], int(total)


async def run_of_account(pool: asyncpg.Pool, run_id: str, account_id: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        f"SELECT {RUN_FIELDS} FROM run_view WHERE run_id = $1 AND account_id = $2", run_id, account_id
    )
    return dict(row) if row else None


async def run_head(pool: asyncpg.Pool, run_id: str, account_id: str) -> asyncpg.Record | None:
    """The run's site and status, if the run belongs to the account."""
    return await pool.fetchrow(
        "SELECT site_id, status FROM run_view WHERE run_id = $1 AND account_id = $2", run_id, account_id
    )


async def run_exists(pool: asyncpg.Pool, run_id: str, account_id: str) -> bool:
    return await run_head(pool, run_id, account_id) is not None


def as_utc(moment: datetime) -> datetime:
    """An aware UTC time; a time given without an offset is taken as UTC (CONTRACT §3: times are UTC)."""
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise invalid("as_of is out of range", field="as_of") from None


async def run_as_of(pool: asyncpg.Pool, run_id: str, account_id: str, as_of: datetime) -> dict[str, Any] | None:
    """The run as it stood at ``as_of``: its events up to then folded as the projector folds them,
    from the projector's nearest snapshot (so at most ``SNAPSHOT_EVERY`` events), in a worker
    thread so a long fold never holds up the event loop."""
    head = await run_head(pool, run_id, account_id)
    if head is None:
        return None
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        # The gap-free prefix of events that had happened by then.
        until = await conn.fetchval(
            "SELECT coalesce(min(sequence) - 1, (SELECT max(sequence) FROM run_events WHERE run_id = $1))"
            " FROM run_events WHERE run_id = $1 AND occurred_at > $2",
            run_id, as_of,
        )
        snapshot = await conn.fetchrow(
            "SELECT sequence, view FROM run_view_snapshots WHERE run_id = $1 AND sequence <= $2"
            " ORDER BY sequence DESC LIMIT 1", run_id, until or 0,
        )
        start, view = (snapshot["sequence"], snapshot["view"]) if snapshot else (0, None)
        rows = await conn.fetch(
            "SELECT sequence, type, occurred_at, data FROM run_events"
            " WHERE run_id = $1 AND sequence > $2 AND sequence <= $3 ORDER BY sequence",
            run_id, start, until or 0,
        )
    return await asyncio.to_thread(_fold, view, start, rows, run_id, head["site_id"], account_id)


def _fold(view: dict[str, Any] | None, start: int, rows: list[asyncpg.Record], run_id: str,
          site_id: str, account_id: str) -> dict[str, Any] | None:
    # ``view`` is this request's own (decoded from the snapshot's row): folded in place, not
    # copied once an event.
    for expected, row in enumerate(rows, start=start + 1):
        if row["sequence"] != expected:  # fold a gap-free prefix only
            break
        view = advance(view, {"run_id": run_id, "site_id": site_id, "account_id": account_id,
                             "type": row["type"], "data": row["data"], "occurred_at": _iso(row["occurred_at"])})
    return view


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


async def events(pool: asyncpg.Pool, run_id: str, after_sequence: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """A page of the run's trail after ``after_sequence``, and whether more follows it."""
    rows = await pool.fetch(
        "SELECT sequence, type, occurred_at, data, hash, prev_hash FROM run_events"
        " WHERE run_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3",
        run_id, after_sequence, limit + 1,
    )
    return [dict(r, occurred_at=_iso(r["occurred_at"])) for r in rows[:limit]], len(rows) > limit


async def wait_for_run(pool: asyncpg.Pool, hub: StreamHub, site_id: str, run_id: str,
                       timeout: float = 5.0) -> bool:
    """Wait until the projector has the run, so the caller's next read finds it.

    Woken by the projector's NOTIFY of the site (sent once its rows are committed), so a
    waiter reads once a wake-up rather than holding pooled connections with a poll every few
    milliseconds; the slow poll only covers the hub's connection being down."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with hub.subscribe(site_id) as wake:  # before the first read: a commit after it wakes us
        while True:
            wake.clear()
            if await pool.fetchval("SELECT 1 FROM run_view WHERE run_id = $1", run_id):
                return True
            left = deadline - loop.time()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(wake.wait(), min(FALLBACK_POLL_SECONDS, left))
            except asyncio.TimeoutError:
                pass


async def active_run(pool: asyncpg.Pool, site_id: str) -> str | None:
    """The site's running or paused run as the pipeline recorded it at admission (pipeline_runs
    commits with the site slot), ahead of the read model."""
    return await pool.fetchval(
        "SELECT run_id FROM pipeline_runs WHERE site_id = $1 AND status IN ('running', 'paused') LIMIT 1",
        site_id,
    )


class PgRuns:
    """The run reads that run control needs (the API's Runs port)."""

    def __init__(self, pool: asyncpg.Pool, hub: StreamHub) -> None:
        self.pool = pool
        self.hub = hub

    async def run_head(self, run_id: str, account_id: str) -> asyncpg.Record | None:
        return await run_head(self.pool, run_id, account_id)

    async def wait_for_run(self, site_id: str, run_id: str) -> bool:
        return await wait_for_run(self.pool, self.hub, site_id, run_id)

    async def active_run(self, site_id: str) -> str | None:
        return await active_run(self.pool, site_id)
