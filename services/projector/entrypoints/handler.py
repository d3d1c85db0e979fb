"""What the projector does with a batch of ``automation.events`` messages, whoever delivers it:
the Kafka subscriber (``services.projector``) or the embedded demo's in-process bus."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Awaitable, Callable

import asyncpg
from pydantic import ValidationError

from services.projector.adapters.writer import project
from shared.events.events import EventEnvelope
from shared.infra.dead_letters import describe
from shared.observability.metrics import DEAD_LETTERS, EVENTS_PROJECTED, PROJECTION_LAG

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
            DEAD_LETTERS.labels("events", "malformed").inc()
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
    EVENTS_PROJECTED.inc(applied)
    _note_lag(events)
    # After the commit: if recording fails, the batch comes again, and the applied events are skipped.
    for event, reason in unfit:
        log.error("set aside event %s: %s", event["event_id"], reason)
        DEAD_LETTERS.labels("events", "unfit").inc()
        if set_aside is not None:
            await set_aside(index_of[event["event_id"]], reason)
    return applied


def _note_lag(events: list[dict[str, Any]]) -> None:
    newest = max(datetime.fromisoformat(str(e["occurred_at"]).replace("Z", "+00:00")) for e in events)
    newest = newest if newest.tzinfo else newest.replace(tzinfo=UTC)
    PROJECTION_LAG.set(max(0.0, (datetime.now(UTC) - newest).total_seconds()))
