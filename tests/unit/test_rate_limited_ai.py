"""The rate-limited provider's own decisions, with a recording limiter and a scripted provider."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from prometheus_client import REGISTRY

from services.pipeline.adapters.ai import limit_rate
from services.pipeline.adapters.ai.offline import OfflineAI
from services.pipeline.adapters.ai.rate_limited import RateLimitedAI
from services.pipeline.application.ai_port import AIError, AIResult, RateLimited, Usage
from services.pipeline.domain.rate_limit import LATE_START_SECONDS, Buckets, Costs, Limit, take
from shared.infra.settings import Settings
from tests.support.manual_clock import ManualClock
from tests.support.windows import most_in_a_window

pytestmark = pytest.mark.unit


class RecordingLimiter:
    def __init__(self) -> None:
        self.taken: list[Costs] = []
        self.settled: list[Costs] = []
        self.cool_downs: list[float] = []

    async def take(self, costs: Costs, ahead: float = 0.0) -> float:
        self.taken.append(costs)
        return time.monotonic()

    async def settle(self, extra: Costs) -> None:
        self.settled.append(extra)

    async def cool_down(self, seconds: float) -> None:
        self.cool_downs.append(seconds)


class ScriptedImages:
    """Answers generate_image with each scripted outcome in turn: an exception or a usage."""

    name = "scripted"

    def __init__(self, *outcomes: Exception | Usage) -> None:
        self.outcomes = list(outcomes)

    async def generate_image(self, prompt: str) -> AIResult[str]:
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return AIResult(prompt, outcome)

    async def aclose(self) -> None:
        pass


async def test_each_429_cools_every_caller_down_then_the_call_is_tried_again():
    limiter = RecordingLimiter()
    inner = ScriptedImages(RateLimited("429", retry_after=2.5), RateLimited("429"), RateLimited("429"),
                           Usage(images=1))
    result = await RateLimitedAI(inner, limiter).generate_image("a kettle")  # type: ignore[arg-type]
    assert result.value == "a kettle"
    assert limiter.cool_downs == [2.5, 1.0, 2.0]  # the provider's word, else 0.5 s doubling per try
    assert limiter.taken == [(1.0, 0.0, 1.0)] * 4
    assert limiter.settled == [(0.0, 0.0, 0.0)]


def counted(series: str, provider: str) -> float:
    return REGISTRY.get_sample_value(series, {"provider": provider}) or 0.0


async def test_429s_are_counted_by_provider():
    before = counted("automation_ai_rate_limited_total", "scripted")
    inner = ScriptedImages(RateLimited("429", retry_after=0.0), RateLimited("429", retry_after=0.0), Usage(images=1))
    await RateLimitedAI(inner, RecordingLimiter()).generate_image("a kettle")  # type: ignore[arg-type]
    assert counted("automation_ai_rate_limited_total", "scripted") - before == 2


async def test_usage_beyond_the_reservation_is_settled_and_other_errors_are_not_retried():
    limiter = RecordingLimiter()
    inner = ScriptedImages(Usage(prompt_tokens=7, images=2), AIError("provider_bad_request"))
    ai = RateLimitedAI(inner, limiter)  # type: ignore[arg-type]
    await ai.generate_image("two kettles")
    with pytest.raises(AIError, match="provider_bad_request"):
        await ai.generate_image("a kettle")
    assert limiter.settled == [(0.0, 7.0, 1.0)] and limiter.cool_downs == []


async def test_the_item_fails_once_the_retry_budget_is_spent():
    limiter = RecordingLimiter()
    inner = ScriptedImages(*[RateLimited("429", retry_after=0.0)] * 3)
    with pytest.raises(AIError, match="provider_rate_limited"):
        await RateLimitedAI(inner, limiter, tries=3).generate_image("a kettle")  # type: ignore[arg-type]
    assert len(limiter.taken) == 3


def test_only_a_provider_that_can_answer_429_or_a_set_limit_brings_the_limiter_in():
    offline = OfflineAI()
    assert limit_rate(offline, Settings(), pool=None) is offline  # type: ignore[arg-type]
    limited = limit_rate(offline, Settings(ai_requests_per_minute=600), pool=None)  # type: ignore[arg-type]
    assert isinstance(limited, RateLimitedAI)


def test_limits_are_positive_and_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("AI_TOKENS_PER_MINUTE", "150000")
    assert Settings().ai_tokens_per_minute == 150_000 and Settings().ai_requests_per_minute is None
    with pytest.raises(ValueError):
        Settings(ai_images_per_minute=0)


class SharedBucket:
    """The limit's rule on a manual clock, its replies as late as ``reply_delay`` says."""

    def __init__(self, clock: ManualClock, limit: Limit, reply_delay: Callable[[float], float]) -> None:
        self.clock, self.limit, self.reply_delay = clock, limit, reply_delay
        self.state = Buckets()

    async def take(self, costs: Costs, ahead: float = 0.0) -> float:
        self.state, slot = take(self.state, (self.limit, None, None), costs, self.clock(), ahead)
        await self.clock.sleep(self.reply_delay(self.clock()))
        return slot

    async def settle(self, extra: Costs) -> None:
        pass

    async def cool_down(self, seconds: float) -> None:
        pass


class StampedImages:
    """Answers at once, noting when each call started."""

    name = "stamped"

    def __init__(self, clock: ManualClock) -> None:
        self.clock, self.starts = clock, []

    async def generate_image(self, prompt: str) -> AIResult[str]:
        self.starts.append(self.clock())
        return AIResult(prompt, Usage(images=1))


def a_commit_held_up_from_10_to_13_s(now: float) -> float:
    return 13.0 - now if 10.0 <= now < 13.0 else 0.001


def the_process_stopped_from_10_to_12_s(clock: ManualClock) -> None:
    clock.stall(at=10.0, seconds=2.0)


@pytest.mark.parametrize("reply_delay, stalls", [
    pytest.param(a_commit_held_up_from_10_to_13_s, lambda clock: None, id="replies held up"),
    pytest.param(lambda now: 0.001, the_process_stopped_from_10_to_12_s, id="process stopped"),
])
async def test_late_grants_never_crowd_a_window_beyond_the_burst_and_the_rate(reply_delay, stalls):
    # 16 callers keep 600 a minute (a burst of 2) busy; grants run ~1.6 s ahead of the takes,
    # so a hold-up of 2-3 s finds slots it should have started in.
    clock, limit, window = ManualClock(start=0.0), Limit.per_minute(600), 10.0
    stalls(clock)
    inner = StampedImages(clock)
    ai = RateLimitedAI(inner, SharedBucket(clock, limit, reply_delay), clock=clock,  # type: ignore[arg-type]
                       sleep=clock.sleep)

    async def caller() -> None:
        while clock() < 30.0:
            await ai.generate_image("a kettle")

    await clock.run(*(caller() for _ in range(16)))
    assert most_in_a_window(inner.starts, window) <= limit.capacity + limit.per_second * (window + LATE_START_SECONDS)
    assert len(inner.starts) >= limit.per_second * 27  # the calls carried on after it


class ScriptedSlots:
    """Grants each take its script's slot (seconds after the take) with its reply that long after
    the take, on the manual clock, noting ``ahead``."""

    def __init__(self, clock: ManualClock, *script: tuple[float, float]) -> None:
        self.clock, self.script, self.aheads = clock, list(script), []

    async def take(self, costs: Costs, ahead: float = 0.0) -> float:
        self.aheads.append(ahead)
        slot_after, reply_after = self.script.pop(0)
        asked = self.clock()
        await self.clock.sleep(reply_after)
        return asked + slot_after

    async def settle(self, extra: Costs) -> None:
        pass

    async def cool_down(self, seconds: float) -> None:
        pass


async def test_a_slot_whose_grant_came_after_it_is_given_up_and_the_next_asked_for_as_far_ahead_as_the_reply_took():
    clock = ManualClock(start=0.0)
    limiter, inner = ScriptedSlots(clock, (0.0, 0.5), (0.25, 0.0)), StampedImages(clock)
    ai = RateLimitedAI(inner, limiter, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    before = counted("automation_ai_slots_missed_total", "stamped")
    await clock.run(ai.generate_image("a kettle"))
    assert limiter.aheads == [0.0, pytest.approx(0.5)]
    assert inner.starts == [0.75]
    assert counted("automation_ai_slots_missed_total", "stamped") - before == 1


@pytest.mark.parametrize("lateness", [0.15, 0.6])
@pytest.mark.parametrize("callers", [1, 16])
async def test_a_process_whose_every_wake_up_is_late_still_starts_calls_within_the_bound(lateness, callers):
    # Every sleeper of the process wakes ``lateness`` after it is due (the limiter's replies too):
    # asleep until its slot, a call would wake past the 0.1 s it may start in, every time.
    clock, limit, window = ManualClock(start=0.0), Limit.per_minute(600), 10.0
    clock.wake_late(lateness)
    inner = StampedImages(clock)
    ai = RateLimitedAI(inner, SharedBucket(clock, limit, lambda now: 0.001), clock=clock,  # type: ignore[arg-type]
                       sleep=clock.sleep)

    async def caller() -> None:
        while clock() < 30.0:
            await ai.generate_image("a kettle")

    await clock.run(*(caller() for _ in range(callers)))
    assert most_in_a_window(inner.starts, window) <= limit.capacity + limit.per_second * (window + LATE_START_SECONDS)
    # One caller waits a late reply and at most a late wake-up per call; many keep the limit busy,
    # but for the slots they miss at first (two per caller at most, till the lead is learnt).
    least = 30.0 / (2 * lateness + 0.1) if callers == 1 else limit.per_second * 30 - 2 * callers
    assert len(inner.starts) >= least
