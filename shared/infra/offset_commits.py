"""Consumer offsets committed at a pace, not after every message or batch.

An OffsetCommit is the broker's costliest request in our traffic (a write to
``__consumer_offsets`` through the group coordinator, which also holds the answer back a few
milliseconds to gather writes): committing after each batch cost the projector one per relay
read, and the pipeline one per command, which its one-at-a-time command subscriber waited for
before taking the next. What a commit buys is a shorter redelivery after a crash or a
rebalance, and both consumers take redeliveries in their stride: a command finds its decision
in ``command_log``, an event the sequence its run's view already reflects, a set-aside record
its ``dead_letters`` row.

So a handled message's offset is noted, and the subscriber's poll loop (between messages,
never while one is handled) commits what was noted once the last commit is ``every`` seconds
old: at once for a message after a quiet spell, at most once per ``every`` under load. A
partition a rebalance takes away is committed before it goes, and a clean stop commits the
rest. Only handled offsets are ever committed, never past a message not yet handled: a
message whose handler fails is not noted, and its partitions are sought back to it, so it
comes again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)
# A crash or a rebalance redelivers at most about this much of a partition's messages.
COMMIT_EVERY_S = 1.0


class PacedCommits(ConsumerRebalanceListener):
    """The offsets one subscriber handled, and their commits. It is also the subscriber's
    rebalance listener (``then`` is told after it), since a revoked partition's offsets must
    be committed before it goes."""

    def __init__(self, every: float = COMMIT_EVERY_S, then: ConsumerRebalanceListener | None = None) -> None:
        self.every = every
        self._then = then
        self._consumer: AIOKafkaConsumer | None = None
        self._handled: dict[TopicPartition, int] = {}  # the next offset, once all before it were handled
        self._committed: dict[TopicPartition, int] = {}
        self._last_commit = float("-inf")

    @asynccontextmanager
    async def handling(self, msg: Any) -> AsyncIterator[None]:
        """Around a handler of ``msg`` (a FastStream ``KafkaMessage``, one record or a batch):
        on success its offsets are noted; on an error it is nacked (each of its partitions
        sought back to its earliest record there) to come again."""
        try:
            yield
        except Exception:
            await msg.nack()
            raise
        records = msg.raw_message if isinstance(msg.raw_message, tuple) else (msg.raw_message,)
        self.note(records)

    def note(self, records: Iterable[Any]) -> None:
        """Records handled, in their partitions' order."""
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            self._handled[partition] = max(self._handled.get(partition, 0), record.offset + 1)

    async def commit_due(self, consumer: AIOKafkaConsumer) -> None:
        """From the poll loop, before each poll: commits what was handled if the last commit is
        ``every`` old."""
        self._consumer = consumer
        if time.monotonic() - self._last_commit >= self.every:
            await self._commit(self._pending(consumer.assignment()))

    async def flush(self, timeout: float = 5.0) -> None:
        """Commits what was handled, due or not (a clean stop). The client retries a commit
        until the broker answers: a stop while the broker is away gives up after ``timeout``,
        and those messages come again."""
        if self._consumer is not None:
            try:
                await asyncio.wait_for(self._commit(self._pending(self._consumer.assignment())), timeout)
            except asyncio.TimeoutError:
                log.warning("could not commit the handled offsets before stopping")

    async def on_partitions_revoked(self, revoked: Any) -> None:
        gone = set(revoked)
        await self._commit(self._pending(gone))
        for partition in gone:  # whoever gets them next starts from what is committed
            self._handled.pop(partition, None)
            self._committed.pop(partition, None)
        if self._then is not None:
            await self._then.on_partitions_revoked(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        if self._then is not None:
            await self._then.on_partitions_assigned(assigned)

    def _pending(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        mine = set(partitions)
        return {partition: offset for partition, offset in self._handled.items()
                if partition in mine and self._committed.get(partition) != offset}

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        if not offsets or self._consumer is None:
            return
        self._last_commit = time.monotonic()
        try:
            await self._consumer.commit(offsets)
        except KafkaError as error:
            # Left pending, tried again when next due: at worst these messages come again.
            log.warning("could not commit offsets %s: %r", offsets, error)
            return
        self._committed.update(offsets)
