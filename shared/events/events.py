"""Events on ``automation.events`` (CONTRACT §5): the envelope every consumer reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

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
