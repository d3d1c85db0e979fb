"""What the projector does with a batch of ``automation.events`` messages, whoever delivers it:
the Kafka subscriber (``services.projector``) or the embedded demo's in-process bus."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import asyncpg
from pydantic import ValidationError

from services.projector.adapters.writer import project
from shared.events.events import EventEnvelope
from shared.observability.metrics import DEAD_LETTERS, EVENTS_PROJECTED, PROJECTION_LAG

log = logging.getLogger("projector")


async def handle_events(pool: asyncpg.Pool, bodies: list[Any]) -> int:
    """Validate the messages as the wire schema says, then write them in one transaction;
    returns how many were new."""
    envelopes = []
    for body in bodies:
        try:
            envelopes.append(EventEnvelope.model_validate(body))
        except ValidationError as error:
            # A malformed event can never be applied: retrying it would block its partition.
            log.error("dropped a malformed event %r: %s", body, error)
            DEAD_LETTERS.labels("events", "malformed").inc()
    if not envelopes:
        return 0
    async with pool.acquire() as conn:
        applied = await project(conn, [e.model_dump(mode="json") for e in envelopes])
    EVENTS_PROJECTED.inc(applied)
    newest = max(e.occurred_at for e in envelopes)
    newest = newest if newest.tzinfo else newest.replace(tzinfo=UTC)
    PROJECTION_LAG.set(max(0.0, (datetime.now(UTC) - newest).total_seconds()))
    return applied
