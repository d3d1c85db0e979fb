"""Writes run events into the read models, once and in order (asyncpg).

The view row carries the last sequence it reflects, written in the same
transaction as the view itself: a redelivered event is recognised and skipped.
The projector and the replay both write through ``project``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import asyncpg

from services.projector.run_view import evolve, log_line
from services.projector.stream import claim_positions, notify

log = logging.getLogger(__name__)

_VIEW_COLUMNS = (
    "run_id", "site_id", "account_id", "trigger_type", "status", "current_stage", "started_at",
    "paused_at", "resumed_at", "cancelled_at", "completed_at", "total_credits_used",
    "error_message", "pause_reason", "stage_results", "processing",
)
_TIME_COLUMNS = {"started_at", "paused_at", "resumed_at", "cancelled_at", "completed_at"}


class OutOfOrder(Exception):
    """An event arrived before one it follows; it is refused so it will be redelivered."""


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _row_to_view(row: asyncpg.Record) -> dict[str, Any]:
    view = {column: row[column] for column in _VIEW_COLUMNS}
    for column in _TIME_COLUMNS:
        view[column] = view[column].isoformat().replace("+00:00", "Z") if view[column] else None
    return view


async def project(conn: asyncpg.Connection, events: list[dict[str, Any]]) -> int:
    """Apply a batch of events, in one transaction; returns how many were new.

    Events are grouped by run (the batch keeps each run's order): each run's view is
    read once, folded over its new events, and written once.
    """
    by_run: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_run.setdefault(event["run_id"], []).append(event)
    applied = 0
    async with conn.transaction():
        for run_id, run_events in by_run.items():
            applied += await _project_run(conn, run_id, run_events)
    return applied


async def _project_run(conn: asyncpg.Connection, run_id: str, events: list[dict[str, Any]]) -> int:
    row = await conn.fetchrow("SELECT * FROM run_view WHERE run_id = $1 FOR UPDATE", run_id)
    last = row["last_sequence"] if row else 0
    fresh = next_in_line(last, events)
    if not fresh:
        return 0
    view, lines = (_row_to_view(row) if row else None), []
    for event in fresh:
        view = evolve(view, event)
        lines.append(_line_row(view, event))
    await _save_view(conn, view, fresh[-1]["sequence"])
    await conn.executemany(_INSERT_EVENT, [_event_row(e) for e in fresh])
    first = await claim_positions(conn, view["site_id"], len(lines))
    await conn.executemany(_INSERT_LINE, [(*line, view["site_id"], first + i) for i, line in enumerate(lines)])
    await notify(conn, view["site_id"])
    return len(fresh)


def next_in_line(last: int, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events that continue the view from ``last`` without a gap, each once.

    Redeliveries repeat events the view has (or this batch already holds): skipped.
    An event after a gap is left out; the relay republishes from its tracked position,
    so the missing event comes again, followed by the ones after it.
    """
    by_sequence = {e["sequence"]: e for e in events if e["sequence"] > last}
    fresh = []
    while (last + 1 + len(fresh)) in by_sequence:
        fresh.append(by_sequence[last + 1 + len(fresh)])
    if len(fresh) < len(by_sequence):
        log.warning("run %s: events after %d wait for a gap to fill", events[0]["run_id"], last + len(fresh))
    return fresh


_INSERT_EVENT = (
    "INSERT INTO run_events (run_id, sequence, event_id, type, occurred_at, data, hash, prev_hash)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)
_INSERT_LINE = (
    "INSERT INTO run_log_lines (run_id, sequence, line_no, line, site_id, stream_position)"
    " VALUES ($1, $2, 0, $3, $4, $5)"
)


def _event_row(event: dict[str, Any]) -> tuple[Any, ...]:
    return (event["run_id"], event["sequence"], event["event_id"], event["type"],
            _parse_time(event["occurred_at"]), event["data"], event["hash"], event["prev_hash"])


def _line_row(view: dict[str, Any], event: dict[str, Any]) -> tuple[Any, ...]:
    return (event["run_id"], event["sequence"], log_line(view, event))


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
