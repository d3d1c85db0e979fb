"""The checkpoint chain over the event store's whole notification log (pure rules).

Checkpoint n covers notification ids (from_id, to_id], from_id being checkpoint n-1's to_id
(0 first). Its hash is taken over checkpoint n-1's hash, the range, and every event in it:
notification id, originator, version, topic and the sha256 of its stored state. With a key
(AUDIT_KEY) it is an HMAC-SHA256, so that someone who rewrites events, re-hashes their
chains and moves their run heads still can't make the checkpoints agree without the key.
Without a key it is a plain sha256, which anyone with write access can recompute.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Iterable

GENESIS_CHECKPOINT_HASH = "0" * 64


@dataclass(frozen=True)
class LoggedEvent:
    """What a checkpoint records of one event of the notification log."""

    notification_id: int
    originator_id: str
    version: int
    topic: str
    state_sha256: str

    def line(self) -> bytes:
        return (f"{self.notification_id}|{self.originator_id}|{self.version}|{self.topic}|"
                f"{self.state_sha256}\n").encode()


@dataclass(frozen=True)
class Checkpoint:
    number: int
    from_id: int
    to_id: int
    event_count: int
    prev_hash: str
    hash: str
    keyed: bool


def checkpoint_hash(prev_hash: str, from_id: int, to_id: int, events: Iterable[LoggedEvent],
                    key: bytes | None) -> tuple[str, int]:
    """(the checkpoint's hash, how many events it covers)."""
    digest = hashlib.sha256()
    count = 0
    for event in events:
        digest.update(event.line())
        count += 1
    message = f"{prev_hash}|{from_id}|{to_id}|{count}|{digest.hexdigest()}".encode()
    if key is None:
        return hashlib.sha256(message).hexdigest(), count
    return hmac.new(key, message, hashlib.sha256).hexdigest(), count


def next_checkpoint(previous: Checkpoint | None, to_id: int, events: Iterable[LoggedEvent],
                    key: bytes | None) -> Checkpoint:
    """The checkpoint that follows ``previous`` (None: the first) and ends at ``to_id``."""
    number = previous.number + 1 if previous else 1
    from_id = previous.to_id if previous else 0
    prev_hash = previous.hash if previous else GENESIS_CHECKPOINT_HASH
    hash_, count = checkpoint_hash(prev_hash, from_id, to_id, events, key)
    return Checkpoint(number, from_id, to_id, count, prev_hash, hash_, keyed=key is not None)


def is_due(previous: Checkpoint | None, position: int, seconds_since: float,
           every_events: int, every_seconds: float) -> bool:
    """Whether the relay, having published up to ``position``, writes a checkpoint now:
    after ``every_events`` ids, or ``every_seconds`` after the last one when anything is new."""
    covered = previous.to_id if previous else 0
    if position <= covered:
        return False
    return position - covered >= every_events or seconds_since >= every_seconds


def checkpoint_problem(previous: Checkpoint | None, checkpoint: Checkpoint, events: Iterable[LoggedEvent],
                       key: bytes | None) -> str | None:
    """What is wrong with ``checkpoint`` (following ``previous``) given the events now stored
    in its range, or None. A keyed checkpoint verifies only with the key; with a key, only
    keyed checkpoints verify (so set AUDIT_KEY before the first is written)."""
    expected_from = previous.to_id if previous else 0
    expected_prev = previous.hash if previous else GENESIS_CHECKPOINT_HASH
    expected_number = previous.number + 1 if previous else 1
    if (checkpoint.number, checkpoint.from_id, checkpoint.prev_hash) != (expected_number, expected_from, expected_prev):
        return (f"does not follow the previous checkpoint (expected number {expected_number} from id "
                f"{expected_from} after hash {expected_prev})")
    if key is not None and not checkpoint.keyed:
        # Anyone can recompute a plain hash: with a key set, one proves nothing.
        return "is a plain hash, but AUDIT_KEY is set: it could have been recomputed by anyone"
    if checkpoint.keyed and key is None:
        return "is keyed, but AUDIT_KEY is not set: it cannot be verified"
    recomputed, count = checkpoint_hash(checkpoint.prev_hash, checkpoint.from_id, checkpoint.to_id, events,
                                        key if checkpoint.keyed else None)
    if not hmac.compare_digest(recomputed, checkpoint.hash):
        kind = "HMAC" if checkpoint.keyed else "hash"
        return (f"its {kind} does not verify against the events now stored in its range "
                f"({count} events now, {checkpoint.event_count} when it was written)")
    return None
