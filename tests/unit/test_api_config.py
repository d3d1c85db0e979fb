"""The config as users see it: next_run_at derived from the schedule rule, never stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.api.domain.config import PUBLIC, present, rescheduled
from shared.stages import BATCH_SIZE_KEYS

pytestmark = pytest.mark.unit


def stored(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "site_id": "s", "is_enabled": True, "frequency": "daily", "scheduled_time": "02:00",
        **{key: 1 for key in BATCH_SIZE_KEYS}, "within_stage_delay": 0.0, "between_stage_delay": 0.0, "ai_concurrency": 8,
        "last_run_at": None, "schedule_changed_at": None, "last_slot_taken": None,
    }
    return row | changes


def test_the_public_fields_are_the_contracts() -> None:
    assert set(present(stored(), datetime(2025, 3, 5, 1, tzinfo=UTC))) == set(PUBLIC)
    assert {f"stage_{n}_batch_size" for n in range(1, 7)} | {"ai_concurrency"} <= set(PUBLIC)


def test_next_run_at_is_the_slot_that_will_fire() -> None:
    now = datetime(2025, 3, 5, 1, tzinfo=UTC)
    assert present(stored(), now)["next_run_at"] == datetime(2025, 3, 5, 2, tzinfo=UTC)
    taken = stored(last_slot_taken=datetime(2025, 3, 5, 2, tzinfo=UTC))
    assert present(taken, datetime(2025, 3, 5, 2, 30, tzinfo=UTC))["next_run_at"] == datetime(2025, 3, 6, 2, tzinfo=UTC)
    assert present(stored(is_enabled=False), now)["next_run_at"] is None


def test_a_schedule_set_after_todays_time_starts_tomorrow() -> None:
    now = datetime(2025, 3, 5, 2, 10, tzinfo=UTC)
    assert present(stored(schedule_changed_at=now), now)["next_run_at"] == datetime(2025, 3, 6, 2, tzinfo=UTC)


def test_only_schedule_fields_reschedule() -> None:
    current = stored()
    assert rescheduled(current, {"scheduled_time": "03:00"})
    assert not rescheduled(current, {"scheduled_time": "02:00", "stage_1_batch_size": 5})
