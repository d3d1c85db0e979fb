"""Writes a run event into the embedded (SQLite) read models: writer.py's ``project()`` on SQLite.

Same envelopes, same pure ``evolve`` and ``log_line``, same rule: the view row carries
the last sequence it reflects, written in the caller's transaction together with the
view, so a redelivered event is recognised and skipped, and a gap is refused.
Times stay the ISO 8601 strings the events carry; JSON columns hold JSON text.
"""

from __future__ import annotations

import json
from typing import Any

from shared.run_view import evolve, log_line
from services.projector.domain.sequence import OutOfOrder

_VIEW_COLUMNS = (
    "run_id", "site_id", "account_id", "trigger_type", "status", "current_stage", "started_at",
    "paused_at", "resumed_at", "cancelled_at", "completed_at", "total_credits_used",
    "error_message", "pause_reason", "stage_results", "processing",
)
_JSON_COLUMNS = ("stage_results", "processing")

__all__ = ["OutOfOrder", "project", "read_view"]


def read_view(cur: Any, run_id: str) -> tuple[dict[str, Any] | None, int]:
    """The run's view (None before RunStarted) and the last sequence it reflects."""
    cur.execute("SELECT * FROM run_view WHERE run_id = ?", (run_id,))
    row = cur.fetchone()
    if row is None:
        return None, 0
    view = {column: row[column] for column in _VIEW_COLUMNS}
    for column in _JSON_COLUMNS:
        view[column] = json.loads(view[column]) if view[column] is not None else None
    return view, int(row["last_sequence"])


def project(cur: Any, event: dict[str, Any]) -> bool:
    """Apply one event inside the caller's transaction; False when it had been applied before."""
    view, last = read_view(cur, event["run_id"])
    if event["sequence"] <= last:
        return False
    if event["sequence"] > last + 1:
        raise OutOfOrder(f"run {event['run_id']}: got {event['sequence']}, expected {last + 1}")
    view = evolve(view, event)
    _save_view(cur, view, event["sequence"])
    cur.execute(
        "INSERT INTO run_events (run_id, sequence, event_id, type, occurred_at, data, hash, prev_hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (event["run_id"], event["sequence"], event["event_id"], event["type"], event["occurred_at"],
         json.dumps(event["data"]), event["hash"], event["prev_hash"]),
    )
    cur.execute(
        "INSERT INTO run_log_lines (run_id, sequence, line_no, line) VALUES (?, ?, 0, ?)",
        (event["run_id"], event["sequence"], log_line(view, event)),
    )
    return True


def _save_view(cur: Any, view: dict[str, Any], sequence: int) -> None:
    values = [json.dumps(view[c]) if c in _JSON_COLUMNS and view[c] is not None else view[c]
              for c in _VIEW_COLUMNS]
    columns = ", ".join((*_VIEW_COLUMNS, "last_sequence"))
    placeholders = ", ".join("?" for _ in range(len(values) + 1))
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*_VIEW_COLUMNS[1:], "last_sequence"))
    cur.execute(
        f"INSERT INTO run_view ({columns}) VALUES ({placeholders})"
        f" ON CONFLICT (run_id) DO UPDATE SET {updates}",
        (*values, sequence),
    )
