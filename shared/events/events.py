"""Events on ``automation.events`` (CONTRACT §5): the envelope every consumer reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import NAMESPACE_URL, uuid5

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 1


class EventEnvelope(BaseModel):
    """One run event as published; ``sequence`` counts the run's events from 1."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: str
    type: str
    run_id: str
    site_id: str
    account_id: str
    sequence: int
    occurred_at: datetime
    schema_version: Literal[1] = SCHEMA_VERSION
    data: dict[str, Any]
    # The audit chain (see shared/events/hashchain.py); extra fields are allowed by the contract.
    hash: str
    prev_hash: str


def event_id(run_id: str, sequence: int) -> str:
    """Stable across republishing, so consumers can deduplicate."""
    return str(uuid5(NAMESPACE_URL, f"automation/run/{run_id}/{sequence}"))


def envelope(event: Any, site_id: str, account_id: str) -> dict[str, Any]:
    """A recorded run event (an ``eventsourcing`` domain event) as it goes on the wire."""
    run_id = str(event.originator_id)
    return {
        "event_id": event_id(run_id, event.originator_version),
        "type": type(event).__name__,
        "run_id": run_id,
        "site_id": site_id,
        "account_id": account_id,
        "sequence": event.originator_version,
        "occurred_at": event.occurred_at,
        "schema_version": SCHEMA_VERSION,
        "data": event.data,
        "hash": event.hash,
        "prev_hash": event.prev_hash,
    }
