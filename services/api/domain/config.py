"""A site's automation config as users see it (CONTRACT §3.3 Config). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.schedule import ScheduleSpec, next_run_at
from shared.stages import BATCH_SIZE_KEYS

SCHEDULE_FIELDS = ("is_enabled", "frequency", "scheduled_time")
WRITABLE = (*SCHEDULE_FIELDS, *BATCH_SIZE_KEYS, "within_stage_delay", "between_stage_delay", "ai_concurrency")
PUBLIC = ("site_id", *WRITABLE, "last_run_at", "next_run_at")


def rescheduled(current: Mapping[str, Any], changes: Mapping[str, Any]) -> bool:
    """Whether the changes move the schedule: slots before such a change are not due."""
    return any(field in changes and changes[field] != current[field] for field in SCHEDULE_FIELDS)


def present(stored: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The public config; ``next_run_at`` derived from the schedule rule as of ``now``."""
    spec = ScheduleSpec(stored["frequency"], stored["scheduled_time"])
    upcoming = next_run_at(stored["is_enabled"], spec, now, stored["last_slot_taken"],
                           stored["schedule_changed_at"])
    return {field: stored[field] for field in PUBLIC if field != "next_run_at"} | {"next_run_at": upcoming}
