"""Which events continue a run's view: each once, in order, without a gap. Pure."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def next_in_line(last: int, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events that continue the view from ``last`` without a gap, each once.

    Redeliveries repeat events the view has (or this batch already holds): skipped.
    An event after a gap is left out; the relay republishes from its tracked position,
    so the missing event comes again, followed by the ones after it.
    """
    by_sequence = {e["sequence"]: e for e in events if e["sequence"] > last}
    fresh = []
    while (last + 1 + len(fresh)) in by_sequence:
        fresh.append(by_sequence[last + 1 + len(fresh)])
    if len(fresh) < len(by_sequence):
        log.warning("run %s: events after %d wait for a gap to fill", events[0]["run_id"], last + len(fresh))
    return fresh
