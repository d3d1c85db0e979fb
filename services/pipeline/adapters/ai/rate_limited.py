"""A decorator around any AI provider: every call waits its turn under the shared limit.

Before a call, it reserves one request and the call's estimated tokens or images from the
limiter (``rate_limit_pg.py``) and sleeps until the slot the limiter granted; a call that
wakes too late after it (``domain.rate_limit.too_late``) gives the slot up and takes another,
so a stall can't release many slots at once; a process whose loop is steadily late asks to be
woken early enough to start on its slots (``domain.rate_limit.WakeLead``). After the call,
it settles the reservation with the usage the provider reported. A 429 (``RateLimited``)
sets a cool-down that every process calling the provider respects, then the call is tried
again: a rate limit costs time, not the item, until the retry budget is spent. Slots given
up and 429s met are counted (``automation_ai_slots_missed_total``,
``automation_ai_rate_limited_total``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from shared.observability.metrics import AI_RATE_LIMITED, AI_SLOTS_MISSED

from ...application.ai_port import (
    AIError, AIProvider, AIResult, Article, ArticleBrief, ArticleInput, ClusterInput, Clustering,
    ExistingCluster, GeneratedImage, Idea, ImagePrompt, KeywordInput, RateLimited, Usage,
)
from ...domain.rate_limit import Costs, WakeLead, ask_ahead, too_late
from .usage_estimate import estimate_usage

T = TypeVar("T")
RATE_LIMITED_TRIES = 10
# Without a Retry-After, everyone waits this long, doubling with each 429 a call meets in a row.
FIRST_COOL_DOWN = 0.5
LONGEST_COOL_DOWN = 60.0


class Limiter(Protocol):
    async def take(self, costs: Costs, ahead: float = 0.0) -> float:
        """The slot reserved: the instant (on the caller's clock) the call may start."""
        ...

    async def settle(self, extra: Costs) -> None: ...
    async def cool_down(self, seconds: float) -> None: ...


class RateLimitedAI:
    def __init__(self, inner: AIProvider, limiter: Limiter, tries: int = RATE_LIMITED_TRIES,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.name = inner.name
        self._inner = inner
        self._limiter = limiter
        self._tries = tries
        self._clock = clock  # the limiter's slots are on this clock
        self._sleep = sleep
        # The event loop's lag is the process's: what one call learns, the next one uses.
        self._wake_lead = WakeLead()
        self._round_trip = 0.0  # the last take's, whoever's
        self._missed = AI_SLOTS_MISSED.labels(self.name)
        self._rate_limited = AI_RATE_LIMITED.labels(self.name)

    async def cluster_keywords(
        self, keywords: list[KeywordInput], existing: list[ExistingCluster]
    ) -> AIResult[Clustering]:
        return await self._call("cluster_keywords", self._inner.cluster_keywords, keywords, existing)

    async def generate_ideas(self, cluster: ClusterInput) -> AIResult[list[Idea]]:
        return await self._call("generate_ideas", self._inner.generate_ideas, cluster)

    async def write_article(self, brief: ArticleBrief) -> AIResult[Article]:
        return await self._call("write_article", self._inner.write_article, brief)

    async def image_prompts(self, article: ArticleInput) -> AIResult[list[ImagePrompt]]:
        return await self._call("image_prompts", self._inner.image_prompts, article)

    async def generate_image(self, prompt: str) -> AIResult[GeneratedImage]:
        return await self._call("generate_image", self._inner.generate_image, prompt)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def _call(self, method: str, call: Callable[..., Awaitable[AIResult[T]]], *args: Any) -> AIResult[T]:
        reserved = _costs(estimate_usage(method, *args))
        for attempt in range(self._tries):
            await self._start_in_turn(reserved)
            try:
                result = await call(*args)
            except RateLimited as limited:
                self._rate_limited.inc()
                # What was reserved stays spent: the provider says we are too fast already.
                await self._limiter.cool_down(_cool_down(limited.retry_after, attempt))
                continue
            used = _costs(result.usage)
            await self._limiter.settle((0.0, used[1] - reserved[1], used[2] - reserved[2]))
            return result
        raise AIError(f"provider_rate_limited: the provider still answered 429 after {self._tries} tries")

    async def _start_in_turn(self, reserved: Costs) -> None:
        while True:
            asked = self._clock()
            slot = await self._limiter.take(reserved, ask_ahead(self._round_trip, self._wake_lead.seconds))
            received = self._clock()
            self._round_trip = received - asked
            while (now := self._clock()) < slot:
                # Woken before the slot, it waits on: a call never starts early.
                wanted = max(now, slot - self._wake_lead.seconds)
                await self._sleep(wanted - now)
                woke = self._clock()
                self._wake_lead = self._wake_lead.after(woke, woke - wanted)
            if not too_late(slot, self._clock()):
                return
            self._missed.inc()


def _costs(usage: Usage) -> Costs:
    return (1.0, float(usage.total_tokens), float(usage.images))


def _cool_down(retry_after: float | None, attempt: int) -> float:
    seconds = FIRST_COOL_DOWN * 2**attempt if retry_after is None else retry_after
    return min(seconds, LONGEST_COOL_DOWN)
