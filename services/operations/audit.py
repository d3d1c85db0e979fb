"""``automation audit verify``: checks each run's hash chain, its head, and the checkpoints.

- The chain (shared/events/hashchain.py) shows an event altered, dropped, inserted or
  moved inside a run.
- The run's head (audit_run_heads, written with the events) shows a tail cut off the run,
  events added behind the store's back, a chain re-hashed without moving the head, and a
  run deleted whole while its head stayed.
- The checkpoint chain over the notification log (audit_checkpoints) shows a run deleted
  with its head, and, with AUDIT_KEY set, a chain re-hashed and its head moved to match.
  Events after the last checkpoint are covered by the first two only; without a key,
  someone who can write the database can recompute the checkpoints too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from services.operations.audit_anchors import checkpoints, logged_events, run_heads
from services.operations.run_events import chained, run_events, run_ids
from services.pipeline.adapters.event_store import RunStore
from services.pipeline.domain.audit_checkpoint import checkpoint_problem
from shared.events.hashchain import ChainBreak, ChainedRunEvent, verify_chain


class Finding(Protocol):
    def describe(self) -> str: ...


@dataclass(frozen=True)
class AuditFinding:
    run_id: str
    event_type: str
    brk: ChainBreak

    def describe(self) -> str:
        return (f"run {self.run_id}: event {self.brk.sequence} ({self.event_type}) at position "
                f"{self.brk.position}: {self.brk.reason}: {self.brk.detail}")


@dataclass(frozen=True)
class AnchorFinding:
    subject: str
    reason: str
    detail: str

    def describe(self) -> str:
        return f"{self.subject}: {self.reason}: {self.detail}"


def verify(store: RunStore, run_id: str | None = None, key: bytes | None = None) -> tuple[int, Finding | None]:
    """(runs checked, the first thing found broken or None). With ``run_id``: that run's
    chain and head only; without: every run, every head, then the checkpoint chain."""
    heads = run_heads(store, run_id)
    checked = 0
    for current in [run_id] if run_id else run_ids(store):
        events = [chained(e) for e in run_events(store, current)]
        if not events:
            continue
        checked += 1
        found = verify_chain(events)
        if found is not None:
            return checked, AuditFinding(current, events[found.position - 1].type, found)
        problem = head_problem(current, events, heads.pop(current, None))
        if problem is not None:
            return checked, problem
    if heads:  # what is left are heads of runs with no events
        orphan, (sequence, _) = next(iter(heads.items()))
        return checked, AnchorFinding(f"run {orphan}", "deleted run",
                                      f"its head is at sequence {sequence} but it has no events")
    return checked, None if run_id else first_bad_checkpoint(store, key)


def head_problem(run_id: str, events: list[ChainedRunEvent], head: tuple[int, str] | None) -> AnchorFinding | None:
    subject, last = f"run {run_id}", events[-1]
    if head is None:
        return AnchorFinding(subject, "no head", "it has events but no head: they were written around the event store")
    sequence, hash_ = head
    if sequence > last.sequence:
        return AnchorFinding(subject, "truncated tail",
                             f"its head is at sequence {sequence} but the last stored event is {last.sequence}")
    if sequence < last.sequence:
        return AnchorFinding(subject, "events after the head",
                             f"its head is at sequence {sequence} but events go up to {last.sequence}")
    if hash_ != last.hash:
        return AnchorFinding(subject, "head hash mismatch",
                             f"event {sequence} hashes to {last.hash}, its head holds {hash_}: the chain was re-hashed")
    return None


def first_bad_checkpoint(store: RunStore, key: bytes | None) -> AnchorFinding | None:
    previous = None
    for checkpoint in checkpoints(store):
        events = logged_events(store, checkpoint.from_id, checkpoint.to_id)
        problem = checkpoint_problem(previous, checkpoint, events, key)
        if problem is not None:
            subject = f"checkpoint {checkpoint.number} (notification ids ({checkpoint.from_id}, {checkpoint.to_id}])"
            return AnchorFinding(subject, "checkpoint broken", problem)
        previous = checkpoint
    return None
