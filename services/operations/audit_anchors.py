"""Reading the audit's anchors kept outside the event rows: run heads and checkpoints."""

from __future__ import annotations

from typing import Iterator

from services.pipeline.adapters.audit_checkpoints import (
    CHECKPOINT_COLUMNS, LOGGED_EVENTS, checkpoint_of, logged_event,
)
from services.pipeline.adapters.event_store import RunStore
from services.pipeline.domain.audit_checkpoint import Checkpoint, LoggedEvent


def run_heads(store: RunStore, run_id: str | None = None) -> dict[str, tuple[int, str]]:
    """run id → (sequence, hash) of its head; only ``run_id``'s when given."""
    where, params = ("WHERE run_id::text = %s", (run_id,)) if run_id else ("", ())
    with store.cursor() as cur:
        cur.execute(f"SELECT run_id::text AS run_id, sequence, hash FROM audit_run_heads {where}"
                    " ORDER BY updated_at, run_id", params)
        return {row["run_id"]: (row["sequence"], row["hash"]) for row in cur.fetchall()}


def checkpoints(store: RunStore) -> list[Checkpoint]:
    with store.cursor() as cur:
        cur.execute(f"SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY number")
        return [checkpoint_of(row) for row in cur.fetchall()]


def logged_events(store: RunStore, from_id: int, to_id: int) -> Iterator[LoggedEvent]:
    """The events stored now with notification ids in (from_id, to_id]."""
    with store.cursor() as cur:
        cur.execute(LOGGED_EVENTS.format("%s", "%s"), (from_id, to_id))
        rows = cur.fetchall()
    return map(logged_event, rows)
