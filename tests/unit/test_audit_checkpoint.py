"""The checkpoint chain's rules, without a database."""

from __future__ import annotations

import pytest

from services.pipeline.domain.audit_checkpoint import (
    LoggedEvent, checkpoint_problem, is_due, next_checkpoint,
)

pytestmark = pytest.mark.unit
KEY = b"k"


def _events(start: int, stop: int) -> list[LoggedEvent]:
    return [LoggedEvent(n, "run-a", n, "mod:Event", f"{n:064x}") for n in range(start + 1, stop + 1)]


def _chain(key: bytes | None):
    first = next_checkpoint(None, 3, _events(0, 3), key)
    return first, next_checkpoint(first, 5, _events(3, 5), key)


@pytest.mark.parametrize("key", [None, KEY])
def test_a_chain_verifies_link_by_link(key) -> None:
    first, second = _chain(key)
    assert (first.number, first.from_id, first.to_id, first.event_count) == (1, 0, 3, 3)
    assert (second.from_id, second.prev_hash, second.keyed) == (3, first.hash, key is not None)
    assert checkpoint_problem(None, first, _events(0, 3), key) is None
    assert checkpoint_problem(first, second, _events(3, 5), key) is None


def test_a_missing_or_altered_event_breaks_its_checkpoint() -> None:
    first, _ = _chain(KEY)
    assert "3 when it was written" in checkpoint_problem(None, first, _events(0, 3)[:2], KEY)
    altered = [*_events(0, 2), LoggedEvent(3, "run-a", 3, "mod:Event", "f" * 64)]
    assert "HMAC does not verify" in checkpoint_problem(None, first, altered, KEY)


def test_the_key_decides_what_verifies() -> None:
    first, _ = _chain(KEY)
    assert "does not verify" in checkpoint_problem(None, first, _events(0, 3), b"other")
    assert "AUDIT_KEY is not set" in checkpoint_problem(None, first, _events(0, 3), None)
    plain, _ = _chain(None)
    assert "plain hash" in checkpoint_problem(None, plain, _events(0, 3), KEY)


def test_a_checkpoint_must_follow_the_previous_one() -> None:
    first, second = _chain(None)
    assert "does not follow" in checkpoint_problem(None, second, _events(3, 5), None)
    skipped = next_checkpoint(first, 5, _events(4, 5), None)
    assert checkpoint_problem(second, skipped, _events(4, 5), None).startswith("does not follow")


def test_due_after_enough_events_or_time_and_only_with_something_new() -> None:
    first, _ = _chain(None)
    assert is_due(None, 10, 0.0, every_events=10, every_seconds=60)
    assert not is_due(None, 9, 0.0, every_events=10, every_seconds=60)
    assert is_due(first, 4, 60.0, every_events=10, every_seconds=60)
    assert not is_due(first, 3, 600.0, every_events=10, every_seconds=60)
