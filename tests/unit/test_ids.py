"""An event's id is the name-based UUID of its run and sequence: the same at every
republishing, and the value it has always had (consumers deduplicate by it)."""

from __future__ import annotations

import pytest

from shared.events.events import event_id

pytestmark = pytest.mark.unit


def test_a_known_event_keeps_its_id() -> None:
    # uuid5(NAMESPACE_URL, "automation/run/00000000-0000-4000-8000-000000000001/1"), as published
    assert event_id("00000000-0000-4000-8000-000000000001", 1) == "132abf86-34ab-521f-a3d9-00e2dbef6659"
