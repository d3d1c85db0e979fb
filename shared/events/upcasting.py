"""Upcasters: bring an event stored or published with an older schema version up to today's.

A breaking change to an event type (a field renamed, removed or retyped) gets a new
``schema_version`` and one upcaster here from the previous version, so that old events,
replayed from the store or from the topic, still read as the current model. Additive
changes need none (docs/EVENTS.md). Version 1 is the only one so far: the table is empty.

An entry maps ``(type, version)`` to a function returning the payload at ``version + 1``::

    def _content_ready_v1_to_v2(event: dict) -> dict:
        data = dict(event["data"], headline=event["data"]["title"])
        del data["title"]
        return {**event, "schema_version": 2, "data": data}

    UPCASTERS[("ContentReadyForReview", 1)] = _content_ready_v1_to_v2
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Payload = dict[str, Any]
UPCASTERS: dict[tuple[str, int], Callable[[Payload], Payload]] = {}


def upcast(event: Payload) -> Payload:
    """``event`` at the newest version its type has upcasters to; unchanged when there are none."""
    while (step := UPCASTERS.get((event.get("type"), event.get("schema_version")))) is not None:
        event = step(event)
    return event
