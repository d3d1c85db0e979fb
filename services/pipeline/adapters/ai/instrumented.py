"""A decorator of the AI provider port: a latency histogram, token counts and a span per call.

It wraps whatever provider (and whatever other decorator, a rate limiter say) the
composition root hands it, and changes no answer and no error.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, Awaitable, Callable

from opentelemetry import trace

from services.pipeline.application.ai_port import AIProvider, AIResult
from services.pipeline.application.stage_work import STAGE_WORK
from shared.observability.metrics import AI_IMAGES, AI_LATENCY, AI_TOKENS, series
from shared.observability.tracing import tracer_provider

STAGE_OF_METHOD = {w.ai_method: w.stage.name for w in STAGE_WORK.values() if w.ai_method}
_tracer = trace.get_tracer(__name__)
# With tracing off, the span a call would get is the no-op tracer's: no span at all costs less
# (starting one took a few percent of the pipeline's CPU at 0 ms AI) and shows the same.
_NO_SPAN = contextlib.nullcontext(trace.INVALID_SPAN)


def _span(name: str, stage: str, provider: str) -> Any:
    if tracer_provider() is None:
        return _NO_SPAN
    return _tracer.start_as_current_span(name, attributes={
        "automation.stage": stage, "automation.ai_provider": provider,
    })


class InstrumentedAI:
    def __init__(self, inner: AIProvider) -> None:
        self.inner = inner
        self.name = inner.name
        for method, stage in STAGE_OF_METHOD.items():
            setattr(self, method, self._observed(method, stage, getattr(inner, method)))

    def _observed(self, method: str, stage: str, call: Callable[..., Awaitable[AIResult[Any]]]) -> Callable[..., Any]:
        provider = self.name
        span_name = f"ai {method}"

        async def observed(*args: Any, **kwargs: Any) -> AIResult[Any]:
            outcome = "error"
            started = time.perf_counter()
            with _span(span_name, stage, provider) as span:
                try:
                    result = await call(*args, **kwargs)
                    outcome = "ok"
                except asyncio.CancelledError:
                    outcome = "cancelled"
                    raise
                finally:
                    series(AI_LATENCY, stage, provider, outcome).observe(time.perf_counter() - started)
                    span.set_attribute("automation.outcome", outcome)
            usage = result.usage
            if usage.prompt_tokens:
                series(AI_TOKENS, stage, provider, "prompt").inc(usage.prompt_tokens)
            if usage.completion_tokens:
                series(AI_TOKENS, stage, provider, "completion").inc(usage.completion_tokens)
            if usage.images:
                series(AI_IMAGES, provider).inc(usage.images)
            return result

        return observed

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
