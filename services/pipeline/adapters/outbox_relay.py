"""Publishes the event store's notification log to ``automation.events``.

The store is the outbox: the relay reads notifications after its tracked
position, publishes them in order, waits for Kafka's acknowledgements, then
advances the position. A crash between publishing and advancing republishes a
few events with the same ``event_id``, which consumers ignore. One relay is
active at a time, elected by a PostgreSQL advisory lock held by its session.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

import asyncpg

from services.pipeline.adapters.event_store import RunStore
from services.pipeline.adapters.trace_links import TRACE_LINKS
from services.pipeline.domain.run import RunEvent, RunStarted
from shared.events.events import envelope
from shared.observability.metrics import EVENTS_RELAYED

log = logging.getLogger(__name__)
RELAY_LOCK_KEY = 7_241_002
RELAY_NAME = "kafka"
BATCH = 500
Publish = Callable[[dict[str, Any], str], Awaitable[Any]]  # (envelope, key) -> ack future


class OutboxRelay:
    def __init__(self, store: RunStore, pool: asyncpg.Pool, publish: Publish, database_url: str) -> None:
        self.store = store
        self.pool = pool
        self.publish = publish
        self.database_url = database_url
        self._owners: dict[str, tuple[str, str]] = {}
        self._wake = asyncio.Event()

    def wake(self, *_: Any) -> None:
        self._wake.set()

    async def run(self) -> None:
        leader = await asyncpg.connect(self.database_url)
        try:
            while not await leader.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK_KEY):
                await asyncio.sleep(1.0)
            await leader.add_listener(self._channel(), self.wake)
            log.info("relay active")
            position = await self._position()
            while True:
                position = await self.relay_once(leader, position)
        finally:
            await leader.close()

    async def relay_once(self, leader: asyncpg.Connection, position: int) -> int:
        """Publish what follows ``position``; ``leader`` holds the relay lock.

        The position is written on the leader's own connection: if that connection (and so
        the lock) is gone, the write fails and this relay stops instead of racing another.
        """
        if leader.is_closed():
            raise ConnectionError("the relay lost its leader connection, and with it the lock")
        notifications = await asyncio.to_thread(
            self.store.recorder.select_notifications, position, BATCH, inclusive_of_start=False
        )
        if not notifications:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=0.2)
            except asyncio.TimeoutError:
                pass
            return position
        acks = []
        for notification in notifications:
            event = self.store.mapper.to_domain_event(notification)
            if isinstance(event, (RunEvent, RunStarted)):
                site_id, account_id = await self._owner(event)
                with TRACE_LINKS.relaying(str(event.originator_id), type(event).__name__):
                    acks.append(await self.publish(envelope(event, site_id, account_id), site_id))
        await asyncio.gather(*acks)
        EVENTS_RELAYED.inc(len(acks))
        position = notifications[-1].id
        await leader.execute(
            "INSERT INTO outbox_position (name, position) VALUES ($1, $2)"
            " ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position",
            RELAY_NAME, position,
        )
        return position

    async def _position(self) -> int:
        value = await self.pool.fetchval("SELECT position FROM outbox_position WHERE name = $1", RELAY_NAME)
        return int(value or 0)

    async def _owner(self, event: Any) -> tuple[str, str]:
        run_id = str(event.originator_id)
        if isinstance(event, RunStarted):
            self._owners[run_id] = (event.data["site_id"], event.data["account_id"])
        if run_id not in self._owners:
            row = await self.pool.fetchrow("SELECT site_id, account_id FROM pipeline_runs WHERE run_id = $1", run_id)
            self._owners[run_id] = (row["site_id"], row["account_id"])
        return self._owners[run_id]

    def _channel(self) -> str:
        return self.store.recorder.channel_name  # type: ignore[attr-defined]
