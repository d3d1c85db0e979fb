"""The read models in PostgreSQL (asyncpg): run_view, run_events, run_log_lines.

The projector and the replay both write through ``project``. A batch costs two round trips
whatever its size and however many runs it holds: one read of every run's view, then one
statement that writes the views, their events, snapshots, log lines, stream positions and the
NOTIFYs together. Its rows go as JSON, which PostgreSQL turns into typed rows itself.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic_core import to_json

from services.projector.adapters.stream import claim_positions, notify
from services.projector.application.project import RunUpdate, apply

_VIEW_COLUMNS = (
    "run_id", "site_id", "account_id", "trigger_type", "status", "current_stage", "started_at",
    "paused_at", "resumed_at", "cancelled_at", "completed_at", "total_credits_used",
    "error_message", "pause_reason", "stage_results", "processing",
)
_TIME_COLUMNS = {"started_at", "paused_at", "resumed_at", "cancelled_at", "completed_at"}


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

    async def save(self, updates: list[RunUpdate]) -> None:
        views, events, snapshots = [], [], []
        for update in updates:
            view = update.view
            run_id, site_id = view["run_id"], view["site_id"]
            views.append({**{c: view[c] for c in _VIEW_COLUMNS}, "last_sequence": update.events[-1]["sequence"]})
            snapshots.extend({"run_id": run_id, "sequence": sequence, "view": snapshot}
                             for sequence, snapshot in update.snapshots)
            for event, line in zip(update.events, update.lines, strict=True):
                events.append({"run_id": run_id, "site_id": site_id, "place": len(events), "line": line,
                               **{c: event[c] for c in _EVENT_FIELDS}})
        # pydantic's encoder, several times quicker than json.dumps; the statement takes the text.
        await self.conn.execute(_SAVE, *(to_json(rows).decode() for rows in (views, events, snapshots)))


_EVENT_FIELDS = ("sequence", "event_id", "type", "occurred_at", "data", "hash", "prev_hash")
# $1 the views (with their last sequence), $2 the events, each with its run's site, its log line
# and its place in the batch, $3 the snapshots. Data-modifying CTEs each run once, whether or not
# the final SELECT reads them.
_SAVE = (
    f"WITH view AS (INSERT INTO run_view ({', '.join(_VIEW_COLUMNS)}, last_sequence)"
    f" SELECT {', '.join(_VIEW_COLUMNS)}, last_sequence FROM jsonb_populate_recordset(NULL::run_view, $1::text::jsonb)"
    f" ON CONFLICT (run_id) DO UPDATE SET"
    f" {', '.join(f'{c} = EXCLUDED.{c}' for c in (*_VIEW_COLUMNS[1:], 'last_sequence'))}),"
    " snapshots AS (INSERT INTO run_view_snapshots (run_id, sequence, view)"
    " SELECT run_id, sequence, view FROM jsonb_populate_recordset(NULL::run_view_snapshots, $3::text::jsonb)"
    " ON CONFLICT (run_id, sequence) DO NOTHING),"
    " batch AS (SELECT * FROM jsonb_to_recordset($2::text::jsonb) AS e(run_id text, site_id text, place int,"
    " line text, sequence int, event_id text, type text, occurred_at timestamptz, data jsonb, hash text,"
    " prev_hash text)),"
    " events AS (INSERT INTO run_events (run_id, sequence, event_id, type, occurred_at, data, hash, prev_hash)"
    " SELECT run_id, sequence, event_id, type, occurred_at, data, hash, prev_hash FROM batch),"
    " counts AS (SELECT site_id, count(*) AS n FROM batch GROUP BY site_id),"
    f" claimed AS ({claim_positions('counts')}),"
    # Each site's claim returns its last position: its lines take the ones up to it, in batch order.
    " lines AS (INSERT INTO run_log_lines (run_id, sequence, line_no, line, site_id, stream_position)"
    " SELECT b.run_id, b.sequence, 0, b.line, b.site_id,"
    " claimed.position - counts.n + row_number() OVER (PARTITION BY b.site_id ORDER BY b.place)"
    " FROM batch b JOIN claimed USING (site_id) JOIN counts USING (site_id))"
    f" {notify('claimed')}"
)
