"""No event outgrows 64 KB, whatever a tenant sends (measured as the relay publishes it)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from services.pipeline.domain.errors import EventTooLarge
from services.pipeline.domain.event_size import MAX_EVENT_BYTES
from services.pipeline.domain.run import AutomationRun

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 1, tzinfo=UTC)
# The worst the API accepts: its largest batch, of keywords of its longest length, each
# character one that takes 4 bytes in UTF-8 and 12 once escaped to ASCII.
LARGEST_BATCH = 1000
LONGEST_KEYWORD = "\U0001F600" * 200


def _run(**config: object) -> AutomationRun:
    return AutomationRun.start(
        run_id=str(uuid.uuid4()), site_id=str(uuid.uuid4()), account_id=str(uuid.uuid4()),
        trigger_type="manual", config={"stage_1_batch_size": LARGEST_BATCH, **config},
        reserved_credits=10, estimated_credits=8, now=NOW,
    )


def _published_size(event: object) -> int:
    content = {"data": event.data, "hash": event.hash, "prev_hash": event.prev_hash,  # type: ignore[attr-defined]
               "event_id": str(uuid.uuid4()), "run_id": str(uuid.uuid4()), "site_id": str(uuid.uuid4()),
               "account_id": str(uuid.uuid4()), "sequence": 10**6, "occurred_at": NOW.isoformat(),
               "type": type(event).__name__, "schema_version": 1}
    return len(json.dumps(content))  # json's default escapes to ASCII, as the worst case


def test_the_largest_batch_of_the_longest_keywords_stays_under_64_kb() -> None:
    run = _run()
    run.start_stage(1, LARGEST_BATCH, NOW)
    items = [{"id": str(uuid.uuid4()), "title": LONGEST_KEYWORD} for _ in range(LARGEST_BATCH)]
    run.start_batch(1, items, uuid.uuid4().hex, NOW)
    failures = [{"item_id": i["id"], "title": LONGEST_KEYWORD, "error": "\U0001F600" * 5000} for i in items]
    batch_id = run.open_batch
    run.process_batch(batch_id=batch_id, stage=1, processed=0, failures=failures, outputs_created=0,
                      credits=3, now=NOW, ready_for_review=[("c", LONGEST_KEYWORD * 20)])
    run.fail("\U0001F600" * 100_000, NOW)
    events = run.collect_events()
    started = next(e for e in events if type(e).__name__ == "BatchStarted")
    assert started.data["item_count"] == LARGEST_BATCH and len(started.data["items"]) == 50
    largest = max(_published_size(e) for e in events)
    assert largest <= MAX_EVENT_BYTES, largest


def test_an_event_over_the_limit_is_refused_not_recorded() -> None:
    with pytest.raises(EventTooLarge):
        _run(note="x" * MAX_EVENT_BYTES)
