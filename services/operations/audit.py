"""``automation audit verify``: walks the event store and checks each run's hash chain."""

from __future__ import annotations

from dataclasses import dataclass

from services.operations.run_events import chained, run_events, run_ids
from services.pipeline.adapters.event_store import RunStore
from shared.events.hashchain import ChainBreak, verify_chain


@dataclass(frozen=True)
class AuditFinding:
    run_id: str
    event_type: str
    brk: ChainBreak

    def describe(self) -> str:
        return (f"run {self.run_id}: event {self.brk.sequence} ({self.event_type}) at position "
                f"{self.brk.position}: {self.brk.reason}: {self.brk.detail}")


def verify(store: RunStore, run_id: str | None = None) -> tuple[int, AuditFinding | None]:
    """(runs checked, the first broken event or None)."""
    checked = 0
    for current in [run_id] if run_id else run_ids(store):
        events = [chained(e) for e in run_events(store, current)]
        checked += 1
        found = verify_chain(events)
        if found is not None:
            return checked, AuditFinding(current, events[found.position - 1].type, found)
    return checked, None
