"""The recorder marks each run's new head among a save's events: the last event of each run,
whatever else the save holds."""

from __future__ import annotations

import json
import uuid

import pytest
from eventsourcing.persistence import StoredEvent

from services.pipeline.adapters.run_heads import RUN_TOPIC_PREFIX, head_hashes

pytestmark = pytest.mark.unit


def _stored(originator: uuid.UUID, version: int, topic: str) -> StoredEvent:
    state = json.dumps({"hash": f"h-{originator}-{version}"}).encode()
    return StoredEvent(originator_id=originator, originator_version=version, topic=topic, state=state)


def test_only_the_last_event_of_each_run_carries_its_hash() -> None:
    first, second, slot = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    run_topic = RUN_TOPIC_PREFIX + "BatchStarted"
    events = [
        _stored(slot, 2, "services.pipeline.domain.site_slot:SiteSlot.RunAdmitted"),
        _stored(first, 4, run_topic),
        _stored(second, 7, run_topic),
        _stored(first, 5, run_topic),
        _stored(first, 6, run_topic),
    ]
    assert head_hashes(events) == [None, None, f"h-{second}-7", None, f"h-{first}-6"]


def test_a_save_without_run_events_moves_no_head() -> None:
    slot = uuid.uuid4()
    assert head_hashes([_stored(slot, 1, "services.pipeline.domain.site_slot:SiteSlot.Opened")]) == [None]
    assert head_hashes([]) == []
