"""A decorator of the AI provider port: a latency histogram, token counts and a span per call.

It wraps whatever provider (and whatever other decorator, a rate limiter say) the
composition root hands it, and changes no answer and no error.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable

from opentelemetry import trace

from services.pipeline.application.ai_port import AIProvider, AIResult
from services.pipeline.application.stage_work import STAGE_WORK
from shared.observability.metrics import AI_IMAGES, AI_LATENCY, AI_TOKENS

STAGE_OF_METHOD = {w.ai_method: w.stage.name for w in STAGE_WORK.values() if w.ai_method}
_tracer = trace.get_tracer(__name__)


class InstrumentedAI:
    def __init__(self, inner: AIProvider) -> None:
        self.inner = inner
        self.name = inner.name
        for method, stage in STAGE_OF_METHOD.items():
            setattr(self, method, self._observed(method, stage, getattr(inner, method)))

    def _observed(self, method: str, stage: str, call: Callable[..., Awaitable[AIResult[Any]]]) -> Callable[..., Any]:
        provider = self.name

        async def observed(*args: Any, **kwargs: Any) -> AIResult[Any]:
            outcome = "error"
            started = time.perf_counter()
            with _tracer.start_as_current_span(f"ai {method}", attributes={
                "automation.stage": stage, "automation.ai_provider": provider,
            }) as span:
                try:
                    result = await call(*args, **kwargs)
                    outcome = "ok"
                except asyncio.CancelledError:
                    outcome = "cancelled"
                    raise
                finally:
                    AI_LATENCY.labels(stage, provider, outcome).observe(time.perf_counter() - started)
                    span.set_attribute("automation.outcome", outcome)
            usage = result.usage
            if usage.prompt_tokens:
                AI_TOKENS.labels(stage, provider, "prompt").inc(usage.prompt_tokens)
            if usage.completion_tokens:
                AI_TOKENS.labels(stage, provider, "completion").inc(usage.completion_tokens)
            if usage.images:
                AI_IMAGES.labels(provider).inc(usage.images)
            return result

        return observed

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
