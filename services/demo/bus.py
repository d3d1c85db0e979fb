"""The embedded demo's one stand-in: ``automation.events`` without Kafka.

The pipeline's outbox relay publishes here as it would to Kafka and waits for the
acknowledgements before it advances its position. An acknowledgement comes once the
projector's own handler has written the event, so nothing the relay passed on is lost.
(Commands need no topic at all: the API hands them to ``PipelineService.dispatch``.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from services.projector.entrypoints.handler import handle_events

BATCH = 500  # as the projector's Kafka subscriber takes them


class InProcessEvents:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._queue: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[None]]] = asyncio.Queue()

    async def publish(self, envelope: dict[str, Any], key: str) -> asyncio.Future[None]:
        """The relay's ``Publish``: returns the acknowledgement to await."""
        acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((envelope, acked))
        return acked

    async def run(self) -> None:
        """Deliver to the projector until cancelled, in publication order."""
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await handle_events(self.pool, [envelope for envelope, _ in batch])
            except Exception as error:  # the relay sees it, and republishes from its position
                for _, acked in batch:
                    if not acked.done():
                        acked.set_exception(error)
                continue
            for _, acked in batch:
                if not acked.done():
                    acked.set_result(None)
