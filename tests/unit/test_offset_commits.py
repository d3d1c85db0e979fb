"""Offsets committed at a pace: only what was handled, at most once per interval (at once after a
quiet spell), a revoked partition's before it goes, the rest on a clean stop; a failed message
is sought back to and never committed past."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError

from shared.infra import offset_commits as module
from shared.infra.offset_commits import PacedCommits

TOPIC = "automation.events"
P0, P1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)


def record(partition: int, offset: int) -> Any:
    return SimpleNamespace(topic=TOPIC, partition=partition, offset=offset)


class FakeMessage:
    def __init__(self, *records: Any) -> None:
        self.raw_message = records if len(records) > 1 else records[0]
        self.nacked = False

    async def nack(self) -> None:
        self.nacked = True


class FakeConsumer:
    def __init__(self, *assigned: TopicPartition) -> None:
        self.assigned = set(assigned)
        self.commits: list[dict[TopicPartition, int]] = []
        self.refuse = False

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.refuse:
            raise CommitFailedError("the group rebalanced")
        self.commits.append(dict(offsets))


class Listener:
    def __init__(self) -> None:
        self.calls: list[tuple[str, set[TopicPartition]]] = []

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self.calls.append(("revoked", set(revoked)))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.calls.append(("assigned", set(assigned)))


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(module, "time", SimpleNamespace(monotonic=lambda: now[0]))  # the loop keeps its own
    return now


async def handle(commits: PacedCommits, *records: Any) -> None:
    async with commits.handling(FakeMessage(*records)):
        pass


async def test_the_first_handled_offsets_go_at_once_then_at_most_once_per_interval(clock) -> None:
    commits, consumer = PacedCommits(every=1.0), FakeConsumer(P0, P1)
    await commits.commit_due(consumer)  # nothing handled: nothing sent
    await handle(commits, record(0, 0), record(1, 0), record(0, 1))
    await commits.commit_due(consumer)
    assert consumer.commits == [{P0: 2, P1: 1}]

    for offset in range(2, 6):  # a burst: handled, not committed until the interval is over
        clock[0] += 0.2
        await handle(commits, record(0, offset))
        await commits.commit_due(consumer)
    assert consumer.commits == [{P0: 2, P1: 1}]
    clock[0] += 0.2
    await commits.commit_due(consumer)
    assert consumer.commits == [{P0: 2, P1: 1}, {P0: 6}]  # only what moved

    clock[0] += 5.0
    await commits.commit_due(consumer)  # nothing new: nothing sent
    assert len(consumer.commits) == 2


async def test_a_failed_message_is_nacked_and_never_committed_past(clock) -> None:
    commits, consumer = PacedCommits(every=1.0), FakeConsumer(P0)
    await handle(commits, record(0, 0), record(0, 1))
    failed = FakeMessage(record(0, 2), record(0, 3))
    with pytest.raises(RuntimeError):
        async with commits.handling(failed):
            raise RuntimeError("the database is away")
    assert failed.nacked
    await commits.commit_due(consumer)
    assert consumer.commits == [{P0: 2}]

    clock[0] += 1.0
    await handle(commits, record(0, 2), record(0, 3))  # redelivered after the seek, handled
    await commits.commit_due(consumer)
    assert consumer.commits == [{P0: 2}, {P0: 4}]


async def test_a_revoked_partition_is_committed_before_it_goes_and_forgotten(clock) -> None:
    then = Listener()
    commits, consumer = PacedCommits(every=1.0, then=then), FakeConsumer(P0, P1)
    await commits.commit_due(consumer)
    await handle(commits, record(0, 0), record(1, 0))
    await commits.commit_due(consumer)
    await handle(commits, record(0, 1), record(1, 1))  # not due yet

    await commits.on_partitions_revoked({P1})
    consumer.assigned = {P0}
    await commits.on_partitions_assigned({P0})
    assert consumer.commits == [{P0: 1, P1: 1}, {P1: 2}]
    assert then.calls == [("revoked", {P1}), ("assigned", {P0})]

    clock[0] += 1.0
    await commits.commit_due(consumer)
    assert consumer.commits[-1] == {P0: 2}  # P1 is someone else's now


async def test_a_commit_the_broker_refuses_stays_pending_for_the_next_one(clock) -> None:
    commits, consumer = PacedCommits(every=1.0), FakeConsumer(P0)
    await handle(commits, record(0, 0))
    consumer.refuse = True
    await commits.commit_due(consumer)
    assert consumer.commits == []
    consumer.refuse = False
    await commits.commit_due(consumer)  # refused just now: not due again yet
    assert consumer.commits == []
    clock[0] += 1.0
    await commits.commit_due(consumer)
    assert consumer.commits == [{P0: 1}]


async def test_a_clean_stop_commits_what_was_handled_due_or_not(clock) -> None:
    commits, consumer = PacedCommits(every=1.0), FakeConsumer(P0)
    await commits.flush()  # never polled: nothing to commit, no consumer to ask
    await commits.commit_due(consumer)
    await handle(commits, record(0, 0))
    await commits.commit_due(consumer)
    await handle(commits, record(0, 1))
    await commits.flush()
    assert consumer.commits == [{P0: 1}, {P0: 2}]


async def test_a_stop_while_the_broker_is_away_gives_up_on_the_commit(clock) -> None:
    commits, consumer = PacedCommits(every=1.0), FakeConsumer(P0)
    await commits.commit_due(consumer)
    await handle(commits, record(0, 0))

    async def never_answered(offsets: dict[TopicPartition, int]) -> None:
        await asyncio.Event().wait()
    answered = consumer.commit
    consumer.commit = never_answered
    await commits.flush(timeout=0.01)  # returns: the record would come again after the restart
    consumer.commit = answered
    await commits.flush()  # still pending
    assert consumer.commits == [{P0: 1}]
