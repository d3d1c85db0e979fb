"""FastStream's own Prometheus and OpenTelemetry middlewares, for every Kafka broker we make."""

from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY

from shared.infra.settings import Settings
from shared.observability.tracing import tracer_provider


def broker_middlewares(settings: Settings, process: str) -> list[Any]:
    if not settings.instrumentation:
        return []
    from faststream.kafka.prometheus import KafkaPrometheusMiddleware

    middlewares: list[Any] = [KafkaPrometheusMiddleware(registry=REGISTRY, app_name=f"automation-{process}")]
    provider = tracer_provider()
    if provider is not None:
        from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware

        middlewares.append(KafkaTelemetryMiddleware(tracer_provider=provider))
    return middlewares
