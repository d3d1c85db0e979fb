"""Which events of a delivered batch the projector applies: each once, in order, no gaps."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from services.projector.domain.sequence import next_in_line

pytestmark = pytest.mark.unit


def _events(*sequences: int) -> list[dict]:
    return [{"run_id": "r", "sequence": n} for n in sequences]


def test_redeliveries_inside_one_batch_are_applied_once() -> None:
    assert [e["sequence"] for e in next_in_line(0, _events(1, 2, 1, 2, 3))] == [1, 2, 3]


def test_events_the_view_already_has_are_skipped() -> None:
    assert [e["sequence"] for e in next_in_line(4, _events(3, 4, 5, 4, 5, 6))] == [5, 6]


def test_events_after_a_gap_wait_for_it() -> None:
    assert [e["sequence"] for e in next_in_line(2, _events(3, 5, 6))] == [3]
    assert next_in_line(2, _events(4, 5)) == []


@given(st.integers(0, 20), st.lists(st.integers(1, 40), max_size=60))
def test_what_is_applied_always_continues_the_view_without_a_gap(last: int, sequences: list[int]) -> None:
    applied = [e["sequence"] for e in next_in_line(last, _events(*sequences) or _events(1))]
    assert applied == list(range(last + 1, last + 1 + len(applied)))
    assert set(applied) <= set(sequences) | {1}
