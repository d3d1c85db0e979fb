"""Run heads: each run's last sequence and hash, kept outside the event rows.

The event chain alone can't show events cut off its end, nor a run deleted whole; the head
can, because it commits with the events (the recorder writes it in their transaction) and
``automation audit verify`` compares it with what is stored. It is derived from the stored
events themselves, so every way of saving a run (batches, commands, whatever the worker
does) moves it.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from services.pipeline.domain.run import RunStarted

RUN_TOPIC_PREFIX = get_topic(RunStarted).split(":")[0] + ":"

UPSERT_HEAD = (
    "INSERT INTO audit_run_heads (run_id, sequence, hash) VALUES (%s, %s, %s)"
    " ON CONFLICT (run_id) DO UPDATE SET sequence = EXCLUDED.sequence, hash = EXCLUDED.hash,"
    " updated_at = now()"
)


def is_run_event(topic: str) -> bool:
    return topic.startswith(RUN_TOPIC_PREFIX)


def heads_of(stored_events: Sequence[StoredEvent]) -> dict[Any, tuple[int, str]]:
    """The last (sequence, hash) of each run among ``stored_events``."""
    heads: dict[Any, tuple[int, str]] = {}
    for stored in stored_events:
        if not is_run_event(stored.topic):
            continue
        known = heads.get(stored.originator_id)
        if known is None or stored.originator_version > known[0]:
            # The store keeps events as uncompressed JSON (no cipher or compressor is set).
            heads[stored.originator_id] = (stored.originator_version, json.loads(stored.state)["hash"])
    return heads


def upsert_heads(curs: Any, stored_events: Sequence[StoredEvent]) -> None:
    for run_id, (sequence, hash_) in heads_of(stored_events).items():
        curs.execute(UPSERT_HEAD, (run_id, sequence, hash_))
