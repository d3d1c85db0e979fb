"""The rate-limited provider's own decisions, with a recording limiter and a scripted provider."""

from __future__ import annotations

import pytest

from services.pipeline.adapters.ai import limit_rate
from services.pipeline.adapters.ai.offline import OfflineAI
from services.pipeline.adapters.ai.rate_limited import RateLimitedAI
from services.pipeline.application.ai_port import AIError, AIResult, RateLimited, Usage
from services.pipeline.domain.rate_limit import Costs
from shared.infra.settings import Settings

pytestmark = pytest.mark.unit


class RecordingLimiter:
    def __init__(self) -> None:
        self.taken: list[Costs] = []
        self.settled: list[Costs] = []
        self.cool_downs: list[float] = []

    async def take(self, costs: Costs) -> float:
        self.taken.append(costs)
        return 0.0

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
