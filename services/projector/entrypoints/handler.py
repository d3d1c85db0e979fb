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
    returns how many were new. A malformed one, or one that can never be applied (its run has
    no RunStarted, its data has the wrong shape), goes to ``set_aside``, and the others carry on."""
    events, index_of = [], {}
    for index, body in enumerate(bodies):
        try:
            event = EventEnvelope.model_validate(body).model_dump(mode="json")
        except ValidationError as error:
            # A malformed event can never be applied: retrying it would block its partition.
            reason = f"malformed event: {describe(error)}"
            log.error("set aside a malformed event (batch index %d): %s", index, reason)
            if set_aside is not None:
                await set_aside(index, reason)
            continue
        events.append(event)
        index_of.setdefault(event["event_id"], index)
    if not events:
        return 0
    unfit: list[tuple[dict[str, Any], str]] = []
    async with pool.acquire() as conn:
        applied = await project(conn, events, unfit)
    # After the commit: if recording fails, the batch comes again, and the applied events are skipped.
    for event, reason in unfit:
        log.error("set aside event %s: %s", event["event_id"], reason)
        if set_aside is not None:
            await set_aside(index_of[event["event_id"]], reason)
    return applied
