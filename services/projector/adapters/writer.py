"""The read models in PostgreSQL (asyncpg): run_view, run_events, run_log_lines.

The projector and the replay both write through ``project``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from services.projector.adapters.stream import claim_positions, notify
from services.projector.application.project import apply

_VIEW_COLUMNS = (
    "run_id", "site_id", "account_id", "trigger_type", "status", "current_stage", "started_at",
    "paused_at", "resumed_at", "cancelled_at", "completed_at", "total_credits_used",
    "error_message", "pause_reason", "stage_results", "processing",
)
_TIME_COLUMNS = {"started_at", "paused_at", "resumed_at", "cancelled_at", "completed_at"}


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _row_to_view(row: asyncpg.Record) -> dict[str, Any]:
    view = {column: row[column] for column in _VIEW_COLUMNS}
    for column in _TIME_COLUMNS:
        view[column] = view[column].isoformat().replace("+00:00", "Z") if view[column] else None
    return view


async def project(conn: asyncpg.Connection, events: list[dict[str, Any]],
                  unfit: list[tuple[dict[str, Any], str]] | None = None) -> int:
    """Apply a batch of events in one transaction; returns how many were new. With ``unfit``,
    events that can never be applied are collected there instead of failing the batch."""
    async with conn.transaction():
        return await apply(PgReadModels(conn), events, unfit)


class PgReadModels:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def view(self, run_id: str) -> tuple[dict[str, Any] | None, int]:
        row = await self.conn.fetchrow("SELECT * FROM run_view WHERE run_id = $1 FOR UPDATE", run_id)
        return (_row_to_view(row), row["last_sequence"]) if row else (None, 0)

    async def save(self, view: dict[str, Any], events: list[dict[str, Any]], lines: list[str],
                   snapshots: list[tuple[int, dict[str, Any]]]) -> None:
        await _save_view(self.conn, view, events[-1]["sequence"])
        await self.conn.executemany(_INSERT_SNAPSHOT, [(view["run_id"], sequence, snapshot)
                                                       for sequence, snapshot in snapshots])
        await self.conn.executemany(_INSERT_EVENT, [_event_row(e) for e in events])
        site_id = view["site_id"]
        first = await claim_positions(self.conn, site_id, len(lines))
        await self.conn.executemany(_INSERT_LINE, [(e["run_id"], e["sequence"], line, site_id, first + i)
                                                   for i, (e, line) in enumerate(zip(events, lines))])
        await notify(self.conn, site_id)


_INSERT_EVENT = (
    "INSERT INTO run_events (run_id, sequence, event_id, type, occurred_at, data, hash, prev_hash)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)
_INSERT_SNAPSHOT = (
    "INSERT INTO run_view_snapshots (run_id, sequence, view) VALUES ($1, $2, $3)"
    " ON CONFLICT (run_id, sequence) DO NOTHING"
)
_INSERT_LINE = (
    "INSERT INTO run_log_lines (run_id, sequence, line_no, line, site_id, stream_position)"
    " VALUES ($1, $2, 0, $3, $4, $5)"
)


def _event_row(event: dict[str, Any]) -> tuple[Any, ...]:
    return (event["run_id"], event["sequence"], event["event_id"], event["type"],
            _parse_time(event["occurred_at"]), event["data"], event["hash"], event["prev_hash"])


async def _save_view(conn: asyncpg.Connection, view: dict[str, Any], sequence: int) -> None:
    values = [_parse_time(view[c]) if c in _TIME_COLUMNS else view[c] for c in _VIEW_COLUMNS]
    columns = ", ".join((*_VIEW_COLUMNS, "last_sequence"))
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 2))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*_VIEW_COLUMNS[1:], "last_sequence"))
    await conn.execute(
        f"INSERT INTO run_view ({columns}) VALUES ({placeholders})"
        f" ON CONFLICT (run_id) DO UPDATE SET {updates}",
        *values, sequence,
    )
