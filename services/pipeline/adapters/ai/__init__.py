"""AI provider adapters. ``build_ai_provider`` picks one from the settings (AI_PROVIDER)."""

from __future__ import annotations

from shared.infra.settings import Settings

from ...application.ai_port import AIProvider


def build_ai_provider(settings: Settings) -> AIProvider:
    # Imported here so choosing the offline provider never loads the openai package.
    if settings.ai_provider == "openai":
        from .openai_provider import OpenAIProvider

        return OpenAIProvider(settings)
    if settings.ai_provider == "offline":
        from .offline import OfflineAI

        return OfflineAI(latency_ms=settings.offline_ai_latency_ms, fail_pattern=settings.offline_ai_fail_pattern)
    raise ValueError(f"unknown AI provider {settings.ai_provider!r}")


__all__ = ["build_ai_provider"]
