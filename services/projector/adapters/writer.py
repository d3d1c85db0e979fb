"""The read models in PostgreSQL (asyncpg): run_view, run_events, run_log_lines.

The projector and the replay both write through ``project``. A batch costs few round trips
whatever its size: one read of every run's view, then one statement per run that writes the
view, its events, snapshots, log lines, stream positions and the NOTIFY together.
"""

from __future__ import annotations

import json
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

    async def views(self, run_ids: list[str]) -> dict[str, tuple[dict[str, Any], int]]:
        rows = await self.conn.fetch("SELECT * FROM run_view WHERE run_id = ANY($1::text[]) FOR UPDATE", run_ids)
        return {row["run_id"]: (_row_to_view(row), row["last_sequence"]) for row in rows}

    async def save(self, view: dict[str, Any], events: list[dict[str, Any]], lines: list[str],
                   snapshots: list[tuple[int, dict[str, Any]]]) -> None:
        view_values = [_parse_time(view[c]) if c in _TIME_COLUMNS else view[c] for c in _VIEW_COLUMNS]
        await self.conn.execute(
            _SAVE,
            *view_values, events[-1]["sequence"],
            [sequence for sequence, _ in snapshots], [json.dumps(snapshot) for _, snapshot in snapshots],
            [e["sequence"] for e in events], [e["event_id"] for e in events], [e["type"] for e in events],
            [_parse_time(e["occurred_at"]) for e in events], [json.dumps(e["data"]) for e in events],
            [e["hash"] for e in events], [e["prev_hash"] for e in events],
            lines,
        )


# $1-$16 the view's columns, $17 its last sequence, $18-$19 the snapshots, $20-$26 the events,
# $27 their log lines. Data-modifying CTEs each run once, whether or not the final SELECT reads them.
assert len(_VIEW_COLUMNS) == 16 and _VIEW_COLUMNS[:2] == ("run_id", "site_id")
_SAVE = (
    f"WITH view AS (INSERT INTO run_view ({', '.join(_VIEW_COLUMNS)}, last_sequence)"
    f" VALUES ({', '.join(f'${i}' for i in range(1, 18))})"
    f" ON CONFLICT (run_id) DO UPDATE SET"
    f" {', '.join(f'{c} = EXCLUDED.{c}' for c in (*_VIEW_COLUMNS[1:], 'last_sequence'))}),"
    " snapshots AS (INSERT INTO run_view_snapshots (run_id, sequence, view)"
    " SELECT $1, s.sequence, s.view::jsonb FROM unnest($18::bigint[], $19::text[]) AS s(sequence, view)"
    " ON CONFLICT (run_id, sequence) DO NOTHING),"
    " events AS (INSERT INTO run_events (run_id, sequence, event_id, type, occurred_at, data, hash, prev_hash)"
    " SELECT $1, e.sequence, e.event_id, e.type, e.occurred_at, e.data::jsonb, e.hash, e.prev_hash"
    " FROM unnest($20::int[], $21::text[], $22::text[], $23::timestamptz[], $24::text[], $25::text[], $26::text[])"
    " AS e(sequence, event_id, type, occurred_at, data, hash, prev_hash)),"
    f" claimed AS ({claim_positions('$2', 'cardinality($27::text[])')}),"
    # The claim returns the last position: the lines take the ones up to it, in their order.
    " lines AS (INSERT INTO run_log_lines (run_id, sequence, line_no, line, site_id, stream_position)"
    " SELECT $1, l.sequence, 0, l.line, $2, claimed.position - cardinality($27::text[]) + l.n"
    " FROM unnest($20::int[], $27::text[]) WITH ORDINALITY AS l(sequence, line, n), claimed)"
    f" {notify('$2')}"
)
