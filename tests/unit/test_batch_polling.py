"""How our batch subscribers poll Kafka: short polls with FastStream's sleep between empty ones
while records come, one long poll without a sleep once idle, short polls again on a record; a
commit, when due, before each poll. The pipeline (idle at once) always polls long, never sleeps."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from shared.infra import batch_polling as module


class FakeCommits:
    def __init__(self, consumer: "FakeConsumer") -> None:
        self.consumer = consumer

    async def commit_due(self, consumer: "FakeConsumer") -> None:
        assert consumer is self.consumer
        consumer.timeouts.append("commit due?")


class FakeConsumer:
    def __init__(self, answers: list[dict[str, list[Any]]]) -> None:
        self.answers, self.timeouts = answers, []

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[str, list[Any]]:
        self.timeouts.append(timeout_ms)
        return self.answers.pop(0)


async def test_short_polls_while_busy_one_long_poll_once_idle(monkeypatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: clock[0])
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
    monkeypatch.setattr(module.asyncio, "sleep", sleep)
    subscriber = SimpleNamespace(batch_timeout_ms=10, max_records=500)
    fake = FakeConsumer([{"tp0": ["a"], "tp1": ["b"]}, {}, {}, {"tp0": ["c"]}, {}])
    module.poll_batches(subscriber, FakeCommits(fake), idle_after_s=1.0)

    assert await subscriber.get_msg(fake) == ("a", "b")
    assert await subscriber.get_msg(fake) == ()  # busy: FastStream's sleep after an empty poll
    clock[0] += 1.0
    assert await subscriber.get_msg(fake) == ()  # idle: one long poll, no sleep
    assert await subscriber.get_msg(fake) == ("c",)
    assert await subscriber.get_msg(fake) == ()  # a record came: short polls again

    due = "commit due?"
    assert fake.timeouts == [due, 10, due, 10, due, module.IDLE_POLL_MS, due, module.IDLE_POLL_MS, due, 10]
    assert slept == [0.01, 0.01]


async def test_idle_at_once_always_polls_long_and_never_sleeps(monkeypatch) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
    monkeypatch.setattr(module.asyncio, "sleep", sleep)
    subscriber = SimpleNamespace(batch_timeout_ms=module.IDLE_POLL_MS, max_records=100)
    fake = FakeConsumer([{}, {"tp0": ["a"]}, {}])
    module.poll_batches(subscriber, FakeCommits(fake), idle_after_s=0.0)

    assert [await subscriber.get_msg(fake) for _ in range(3)] == [(), ("a",), ()]
    due = "commit due?"
    assert fake.timeouts == [due, module.IDLE_POLL_MS] * 3
    assert slept == []
