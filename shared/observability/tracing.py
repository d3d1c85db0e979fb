"""OpenTelemetry tracing, configured by the standard OTEL_* variables and off unless they ask.

Tracing is on when OTEL_TRACES_EXPORTER names an exporter (``otlp``, ``console``) or an
OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and
OTEL_SDK_DISABLED is not ``true``. The OTLP exporter speaks HTTP/protobuf and reads its own
OTEL_EXPORTER_OTLP_* variables; the sampler follows OTEL_TRACES_SAMPLER.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator, Mapping

from opentelemetry import trace
from opentelemetry.trace import Link
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from shared.infra.settings import Settings

_provider: TracerProvider | None = None


def requested_exporters(env: Mapping[str, str]) -> list[str]:
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "").split(",") if n.strip()]
    if not names and (env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        names = ["otlp"]
    return [n for n in names if n != "none"]


def _exporter(name: str) -> SpanExporter:
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if name == "console":
        return ConsoleSpanExporter()
    raise ValueError(f"OTEL_TRACES_EXPORTER: unsupported exporter {name!r} (otlp, console, none)")


def configure_tracing(settings: Settings, process: str, env: Mapping[str, str] = os.environ) -> TracerProvider | None:
    """Installs the global tracer provider and the asyncpg and httpx instrumentations;
    returns the provider, or None when tracing is off."""
    global _provider
    names = requested_exporters(env) if settings.instrumentation else []
    if not names:
        return None
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set, win over the default name.
    resource = Resource.create({SERVICE_NAME: f"automation-{process}"} if "OTEL_SERVICE_NAME" not in env else {})
    provider = TracerProvider(resource=resource)
    for name in names:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
    trace.set_tracer_provider(provider)
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    AsyncPGInstrumentor().instrument(tracer_provider=provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    _provider = provider
    return provider


def tracer_provider() -> TracerProvider | None:
    """The provider configure_tracing installed in this process, if any."""
    return _provider


@contextlib.contextmanager
def span_following(name: str, headers: list[dict[str, Any]]) -> Iterator[None]:
    """A span continuing the trace of the first of a batch's messages, linked to the others'.

    FastStream gives a batch a trace of its own (linked to its messages'); this puts a batch's
    work in the trace that caused it, which for a run's events is the run's trace.
    """
    if _provider is None:
        yield
        return
    propagator = TraceContextTextMapPropagator()
    contexts = [trace.get_current_span(propagator.extract(h)).get_span_context() for h in headers]
    valid = [c for c in contexts if c.is_valid]
    if not valid:
        yield
        return
    parent = trace.set_span_in_context(trace.NonRecordingSpan(valid[0]))
    links = [Link(c) for c in valid[1:]]
    with _provider.get_tracer(__name__).start_as_current_span(name, context=parent, links=links):
        yield
