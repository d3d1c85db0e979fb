"""Ids made by hand for speed: an event's id is the name-based UUID of its run and sequence
(the same at every republishing, and the value it has always had: consumers deduplicate by
it); a new row's id is a random UUID's text."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, strategies as st

from services.pipeline.application.stage_work import new_id
from shared.events.events import event_id

pytestmark = pytest.mark.unit


def test_a_known_event_keeps_its_id() -> None:
    # uuid5(NAMESPACE_URL, "automation/run/00000000-0000-4000-8000-000000000001/1"), as published
    assert event_id("00000000-0000-4000-8000-000000000001", 1) == "132abf86-34ab-521f-a3d9-00e2dbef6659"


@given(st.uuids(), st.integers(min_value=1, max_value=10**12))
def test_an_event_id_is_the_uuid5_of_its_run_and_sequence(run_id: uuid.UUID, sequence: int) -> None:
    expected = uuid.uuid5(uuid.NAMESPACE_URL, f"automation/run/{run_id}/{sequence}")
    assert event_id(str(run_id), sequence) == str(expected)
    assert uuid.UUID(event_id(str(run_id), sequence)).version == 5


def test_a_new_row_id_is_a_random_uuids_text() -> None:
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
