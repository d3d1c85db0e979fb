"""Counts what the event store recorded: run transitions, items by stage, credits charged.

Counted from the events a save committed, so a refused or rolled-back batch counts
nothing, and the worker needs no metric calls of its own.
"""

from __future__ import annotations

from typing import Any, Iterable

from shared.observability.metrics import CREDITS_CHARGED, ITEMS_FAILED, ITEMS_PROCESSED, RUN_TRANSITIONS, series
from shared.stages import stage_name

STATUS_AFTER = {
    "RunStarted": "running", "RunResumed": "running", "RunPaused": "paused",
    "RunCancelled": "cancelled", "RunCompleted": "completed", "RunFailed": "failed",
}


def count_recorded(events: Iterable[Any]) -> None:
    for event in events:
        kind = type(event).__name__
        if kind in STATUS_AFTER:
            series(RUN_TRANSITIONS, STATUS_AFTER[kind]).inc()
        elif kind == "BatchProcessed":
            data = event.data
            stage = stage_name(data["stage"])
            series(ITEMS_PROCESSED, stage).inc(data["processed"])
            series(ITEMS_FAILED, stage).inc(data["failed"])
            if data["credits"]:
                series(CREDITS_CHARGED, stage).inc(data["credits"])
