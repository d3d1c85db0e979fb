"""Run heads: each run's last sequence and hash, kept outside the event rows.

The event chain alone can't show events cut off its end, nor a run deleted whole; the head
can, because it commits with the events and ``automation audit verify`` compares it with
what is stored. It is derived from the stored events themselves, so every way of saving a
run (batches, commands, whatever the worker does) moves it: the recorder's one statement,
``append_automation_events`` (migration 0012), upserts it from the events it inserts.
"""

from __future__ import annotations

import json
from typing import Sequence

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from services.pipeline.domain.run import RunStarted

RUN_TOPIC_PREFIX = get_topic(RunStarted).split(":")[0] + ":"


def is_run_event(topic: str) -> bool:
    return topic.startswith(RUN_TOPIC_PREFIX)


def head_hashes(stored_events: Sequence[StoredEvent]) -> list[str | None]:
    """Beside each of ``stored_events``: its hash if it is the last of its run among them
    (its run's new head), else None."""
    last: dict[object, int] = {}  # run -> position of its last event
    for position, stored in enumerate(stored_events):
        if is_run_event(stored.topic):
            known = last.get(stored.originator_id)
            if known is None or stored.originator_version > stored_events[known].originator_version:
                last[stored.originator_id] = position
    hashes: list[str | None] = [None] * len(stored_events)
    for position in last.values():
        # Decoded here rather than in SQL, whose JSON types refuse a \u0000 any text may carry.
        # The store keeps events as uncompressed JSON (no cipher or compressor is set).
        hashes[position] = json.loads(stored_events[position].state)["hash"]
    return hashes
