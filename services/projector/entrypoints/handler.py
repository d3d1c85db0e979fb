"""What the projector does with a batch of ``automation.events`` messages, whoever delivers it:
the Kafka subscriber (``services.projector``) or the embedded demo's in-process bus."""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

import asyncpg
from pydantic import ValidationError

from services.projector.adapters.writer import project
from shared.events.events import EventEnvelope
from shared.infra.dead_letters import describe

log = logging.getLogger("projector")
# (index of the message in the batch, reason): records it where its deliverer can.
SetAside = Callable[[int, str], Awaitable[None]]


async def handle_events(pool: asyncpg.Pool, bodies: list[Any], set_aside: SetAside | None = None) -> int:
    """Validate the messages as the wire schema says, then write them in one transaction;
    returns how many were new. A malformed one goes to ``set_aside`` (before the batch is
    written, so a failed write redelivers both), and the others carry on."""
    events = []
    for index, body in enumerate(bodies):
        try:
            events.append(EventEnvelope.model_validate(body).model_dump(mode="json"))
        except ValidationError as error:
            # A malformed event can never be applied: retrying it would block its partition.
            reason = f"malformed event: {describe(error)}"
            log.error("set aside a malformed event (batch index %d): %s", index, reason)
            if set_aside is not None:
                await set_aside(index, reason)
    if not events:
        return 0
    async with pool.acquire() as conn:
        return await project(conn, events)

