"""Writes the audit checkpoint chain (domain/audit_checkpoint.py) as the outbox relay advances.

The relay is the writer because it is the one process that walks the notification log in
order, behind the point where every id is committed (the recorder takes a table lock per
insert), and it holds an advisory lock, so there is one writer at a time. The checkpoint is
inserted on the relay's leader connection: if that connection has lost the lock, the
insert fails with it. A checkpoint's number is its key, so two writers could never both
append the same link.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import asyncpg

from services.pipeline.domain.audit_checkpoint import Checkpoint, LoggedEvent, is_due, next_checkpoint
from shared.infra.settings import Settings

LOGGED_EVENTS = (
    "SELECT notification_id, originator_id::text AS originator_id, originator_version, topic,"
    " encode(sha256(state), 'hex') AS state_sha256 FROM automation_events"
    " WHERE notification_id > {} AND notification_id <= {} ORDER BY notification_id"
)
CHECKPOINT_COLUMNS = "number, from_id, to_id, event_count, prev_hash, hash, keyed"


def audit_key(settings: Settings) -> bytes | None:
    secret = settings.audit_key.get_secret_value() if settings.audit_key is not None else ""
    return secret.encode() or None


def logged_event(row: Any) -> LoggedEvent:
    return LoggedEvent(row["notification_id"], row["originator_id"], row["originator_version"],
                       row["topic"] or "", row["state_sha256"] or "")


def checkpoint_of(row: Any) -> Checkpoint:
    return Checkpoint(*(row[name] for name in CHECKPOINT_COLUMNS.split(", ")))


class CheckpointWriter:
    def __init__(self, key: bytes | None, every_events: int, every_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.key = key
        self.every_events = every_events
        self.every_seconds = every_seconds
        self.clock = clock
        self._loaded = False
        self._last: Checkpoint | None = None
        self._last_at = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "CheckpointWriter":
        return cls(audit_key(settings), settings.audit_checkpoint_events, settings.audit_checkpoint_seconds)

    def forget(self) -> None:
        """Read the chain's last checkpoint again before the next one (a new leadership)."""
        self._loaded = False

    async def after_relay(self, conn: asyncpg.Connection, position: int) -> Checkpoint | None:
        """Append a checkpoint up to ``position`` (all of it published) if one is due."""
        if not self._loaded:
            row = await conn.fetchrow(f"SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints"
                                      " ORDER BY number DESC LIMIT 1")
            self._last, self._last_at, self._loaded = (checkpoint_of(row) if row else None), self.clock(), True
        if not is_due(self._last, position, self.clock() - self._last_at, self.every_events, self.every_seconds):
            return None
        start = self._last.to_id if self._last else 0
        rows = await conn.fetch(LOGGED_EVENTS.format("$1", "$2"), start, position)
        checkpoint = next_checkpoint(self._last, position, map(logged_event, rows), self.key)
        try:
            await conn.execute(f"INSERT INTO audit_checkpoints ({CHECKPOINT_COLUMNS})"
                               " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                               checkpoint.number, checkpoint.from_id, checkpoint.to_id, checkpoint.event_count,
                               checkpoint.prev_hash, checkpoint.hash, checkpoint.keyed)
        except Exception:
            self.forget()  # another relay may have appended meanwhile: read the chain's end again
            raise
        self._last, self._last_at = checkpoint, self.clock()
        return checkpoint
