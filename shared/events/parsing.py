"""``parse_event``: one message of ``automation.events`` as a typed model, whatever it holds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .typed import EVENT_TYPES, SCHEMA_VERSION, Envelope, Event
from .upcasting import upcast


def parse_event(raw: bytes | str | Mapping[str, Any]) -> Event | Envelope:
    """The event as its typed model (``RunStarted``, ``ContentReadyForReview``, ...).

    A type this version of the package does not know, or a newer schema version, comes
    back as the generic ``Envelope`` rather than an error: producers add event types, and
    a consumer should skip what it does not handle. Raises ``ValueError`` (pydantic's
    ``ValidationError`` is one) only for a message that is not an event at all, or a known
    type whose fields are wrong.

    ``event.model_dump(mode="json", exclude_unset=True)`` is the message as it was sent:
    without ``exclude_unset`` optional fields it lacked appear as nulls, and its ``data``
    no longer matches its ``hash``.
    """
    payload = upcast(_as_dict(raw))
    model = EVENT_TYPES.get(payload.get("type"))  # type: ignore[arg-type]
    if model is None or payload.get("schema_version") != SCHEMA_VERSION:
        return Envelope.model_validate(payload)
    return model.model_validate(payload)


def _as_dict(raw: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    payload = dict(raw) if isinstance(raw, Mapping) else json.loads(raw)
    if not isinstance(payload, dict):
        raise ValueError(f"an event is a JSON object, got {type(payload).__name__}")
    return payload
