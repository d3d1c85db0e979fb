"""The embedded demo's in-process events: acknowledged only once the projector's handler is done."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.demo.bus import InProcessEvents

pytestmark = pytest.mark.unit


class UnreachablePool:
    def acquire(self) -> Any:
        raise ConnectionError("the database is away")


async def deliver(events: InProcessEvents, envelope: dict[str, Any]) -> None:
    delivery = asyncio.create_task(events.run())
    try:
        acked = await events.publish(envelope, "site")
        await asyncio.wait_for(acked, 5)
    finally:
        delivery.cancel()


async def test_a_failed_write_fails_the_acknowledgement_so_the_relay_publishes_again() -> None:
    envelope = {"event_id": "e", "type": "RunStarted", "run_id": "r", "site_id": "s", "account_id": "a",
                "sequence": 1, "occurred_at": "2026-01-01T00:00:00Z", "schema_version": 1, "data": {},
                "hash": "h", "prev_hash": ""}
    with pytest.raises(ConnectionError):
        await deliver(InProcessEvents(UnreachablePool()), envelope)  # type: ignore[arg-type]


async def test_a_malformed_event_is_dropped_and_acknowledged_as_the_kafka_projector_does() -> None:
    await deliver(InProcessEvents(UnreachablePool()), {"type": "nonsense"})  # type: ignore[arg-type]
