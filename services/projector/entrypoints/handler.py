"""What the projector does with a batch of ``automation.events`` messages, whoever delivers it:
the Kafka subscriber (``services.projector``) or the embedded demo's in-process bus."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from pydantic import ValidationError

from services.projector.adapters.writer import project
from shared.events.events import EventEnvelope

log = logging.getLogger("projector")


async def handle_events(pool: asyncpg.Pool, bodies: list[Any]) -> int:
    """Validate the messages as the wire schema says, then write them in one transaction;
    returns how many were new."""
    events = []
    for body in bodies:
        try:
            events.append(EventEnvelope.model_validate(body).model_dump(mode="json"))
        except ValidationError as error:
            # A malformed event can never be applied: retrying it would block its partition.
            log.error("dropped a malformed event %r: %s", body, error)
    if not events:
        return 0
    async with pool.acquire() as conn:
        return await project(conn, events)
