"""AI provider adapters. ``build_ai_provider`` picks one from the settings (AI_PROVIDER)."""

from __future__ import annotations

import asyncpg

from shared.infra.settings import Settings

from ...application.ai_port import AIProvider
from ...domain.rate_limit import Limit, Limits
from .rate_limit_pg import PgRateLimiter
from .rate_limited import RateLimitedAI


def build_ai_provider(settings: Settings) -> AIProvider:
    # Imported here so choosing the offline provider never loads the openai package.
    if settings.ai_provider == "openai":
        from .openai_provider import OpenAIProvider

        return OpenAIProvider(settings)
    if settings.ai_provider == "offline":
        from .offline import OfflineAI

        return OfflineAI(latency_ms=settings.offline_ai_latency_ms, fail_pattern=settings.offline_ai_fail_pattern)
    raise ValueError(f"unknown AI provider {settings.ai_provider!r}")


def limit_rate(provider: AIProvider, settings: Settings, pool: asyncpg.Pool) -> AIProvider:
    """The provider behind the limit every pipeline process shares (AI_*_PER_MINUTE)."""
    limits = rate_limits(settings)
    if provider.name == "offline" and not any(limits):
        return provider  # it never answers 429: with no limit set, skip the round trip per call
    return RateLimitedAI(provider, PgRateLimiter(pool, provider.name, limits))


def rate_limits(settings: Settings) -> Limits:
    per_minute = (settings.ai_requests_per_minute, settings.ai_tokens_per_minute, settings.ai_images_per_minute)
    return tuple(Limit.per_minute(n) if n else None for n in per_minute)  # type: ignore[return-value]


__all__ = ["build_ai_provider", "limit_rate"]
