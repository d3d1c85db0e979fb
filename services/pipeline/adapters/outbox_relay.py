"""Publishes the event store's notification log to ``automation.events``.

The store is the outbox: the relay reads notifications after its tracked
position, publishes them in order, waits for Kafka's acknowledgements, then
advances the position. A crash between publishing and advancing republishes a
few events with the same ``event_id``, which consumers ignore. Behind the position it
appends the audit checkpoints (audit_checkpoints.py). One relay is
active at a time, elected by a PostgreSQL advisory lock held by its session.

An event Kafka refuses (say ``MessageSizeTooLarge``) is never skipped, since a run's
sequence has no gaps: the relay advances up to it, raises its alarm (a log at ERROR with
the event id, the ``relay_alarms`` row ``/readyz`` reads, its ``occurrences`` counter) and
tries again after a pause, until the broker accepts it and the alarm is cleared.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

import asyncpg
from aiokafka.errors import KafkaError
from eventsourcing.persistence import Notification

from services.pipeline.adapters.audit_checkpoints import CheckpointWriter
from services.pipeline.adapters.event_store import RunStore
from services.pipeline.adapters.trace_links import TRACE_LINKS
from services.pipeline.domain.run import RunEvent, RunStarted
from shared.events.events import envelope
from shared.infra import relay_alarms
from shared.observability.metrics import EVENTS_RELAYED

log = logging.getLogger(__name__)
RELAY_LOCK_KEY = 7_241_002
RELAY_NAME = "kafka"
BATCH = 500
# The producer's bound on a partition's record batch: a read's events for one partition fit in
# one, and so the read goes in one produce request. At the client's default (16 KiB), a read of
# a few dozen ~1 KiB events filled a batch, which held the relay until that batch was sent, and
# the rest followed in a second request that woke the projector's fetch again. It stays below
# the broker's message.max.bytes (1 MiB), which would refuse a bigger batch whole; an event
# larger than this still goes in a batch of its own.
RECORD_BATCH_BYTES = 512 * 1024
# After a read that found fewer than BATCH events, the next waits until this long after it.
# Each read that finds events costs a produce request, the consumers' fetches and offset
# commits it wakes, a position write and a checkpoint look, whatever its size: under load,
# back-to-back reads found a few events each. An event waits at most this much longer; one
# that follows a quiet spell goes at once.
READ_INTERVAL = 0.05
# The recorder's own select_notifications, read on the leader's connection: no worker thread
# and no second pool on a path the relay takes for every few events.
_NOTIFICATIONS = ("SELECT notification_id, originator_id, originator_version, topic, state FROM {}"
                  " WHERE notification_id > $1 ORDER BY notification_id LIMIT $2")
Publish = Callable[[dict[str, Any], str], Awaitable[Any]]  # (envelope, key) -> ack future


class OutboxRelay:
    def __init__(self, store: RunStore, pool: asyncpg.Pool, publish: Publish, database_url: str,
                 checkpoints: CheckpointWriter | None = None, retry_refused_after: float = 5.0,
                 read_interval: float = READ_INTERVAL) -> None:
        self.store = store
        self.checkpoints = checkpoints
        self.pool = pool
        self.publish = publish
        self.database_url = database_url
        self.retry_refused_after = retry_refused_after
        self.read_interval = read_interval
        self._paced_from = float("-inf")
        self._alarmed = False
        self._owners: dict[str, tuple[str, str]] = {}
        self._wake = asyncio.Event()
        self._select = _NOTIFICATIONS.format(store.recorder.events_table_name)  # type: ignore[attr-defined]

    def wake(self, *_: Any) -> None:
        self._wake.set()

    async def run(self) -> None:
        leader = await asyncpg.connect(self.database_url)
        try:
            while not await leader.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK_KEY):
                await asyncio.sleep(1.0)
            await leader.add_listener(self._channel(), self.wake)
            log.info("relay active")
            self._alarmed = True  # an alarm a previous relay left is cleared by the first success
            if self.checkpoints is not None:
                self.checkpoints.forget()
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
        # Cleared before reading, not after: a NOTIFY that lands during the read must wake
        # the next wait, or its events would sit until the wait's timeout.
        self._wake.clear()
        await self._pace()
        read_at = asyncio.get_running_loop().time()
        notifications = [
            Notification(id=row[0], originator_id=row[1], originator_version=row[2], topic=row[3], state=row[4])
            for row in await leader.fetch(self._select, position, BATCH)
        ]
        if not notifications:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=0.2)
            except asyncio.TimeoutError:
                pass
            await self._checkpoint(leader, position)
            return position
        # A full read leaves more behind: the next one goes at once.
        self._paced_from = read_at if len(notifications) < BATCH else float("-inf")
        reached, refused = await self._publish_in_order(notifications, position)
        if reached != position:
            await leader.execute(
                "INSERT INTO outbox_position (name, position) VALUES ($1, $2)"
                " ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position",
                RELAY_NAME, reached,
            )
            await self._checkpoint(leader, reached)
        if refused is not None:
            await self._alarm(*refused)
            await asyncio.sleep(self.retry_refused_after)
        elif self._alarmed:
            await relay_alarms.clear(self.pool, RELAY_NAME)
            self._alarmed = False
            log.warning("relay alarm cleared: Kafka accepts events again")
        return reached

    async def _publish_in_order(self, notifications: list[Any], position: int
                                ) -> tuple[int, tuple[str, KafkaError] | None]:
        """Publish, then wait for every ack; returns the last notification id acknowledged
        with everything before it, and the first event Kafka refused, if any."""
        sent: list[tuple[int, str | None, Any]] = []
        refused: tuple[str, KafkaError] | None = None
        for notification in notifications:
            event = self.store.mapper.to_domain_event(notification)
            if not isinstance(event, (RunEvent, RunStarted)):
                sent.append((notification.id, None, None))
                continue
            site_id, account_id = await self._owner(event)
            message = envelope(event, site_id, account_id)
            try:
                with TRACE_LINKS.relaying(str(event.originator_id), type(event).__name__):
                    sent.append((notification.id, message["event_id"], await self.publish(message, site_id)))
            except KafkaError as error:  # refused before it left this process (too large for the client)
                refused = (message["event_id"], error)
                break
        outcomes = iter(await asyncio.gather(*(ack for _, _, ack in sent if ack is not None),
                                             return_exceptions=True))
        reached = position
        for notification_id, event_id, ack in sent:
            outcome = next(outcomes) if ack is not None else None
            if isinstance(outcome, KafkaError):
                return reached, (event_id or "", outcome)
            if isinstance(outcome, BaseException):
                raise outcome
            reached = notification_id
            if event_id is not None:
                EVENTS_RELAYED.inc()
        return reached, refused

    async def _pace(self) -> None:
        wait = self._paced_from + self.read_interval - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _alarm(self, event_id: str, error: KafkaError) -> None:
        occurrences = await relay_alarms.raise_alarm(self.pool, RELAY_NAME, event_id, repr(error))
        self._alarmed = True
        log.error("Kafka refused event %s (%r), %d time(s) in a row; events behind it wait; "
                  "retrying in %.0f s", event_id, error, occurrences, self.retry_refused_after)

    async def _checkpoint(self, leader: asyncpg.Connection, position: int) -> None:
        if self.checkpoints is not None:
            await self.checkpoints.after_relay(leader, position)

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
