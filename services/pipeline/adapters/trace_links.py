"""Carries a run's trace from the command that started it to the relay that publishes its events.

The relay is one long-lived task, outside any command's context. When the event store
saves a run's events, the trace then current (the command's, or the run task's that
inherited it) is remembered by run; the relay publishes that run's events inside a span
of that trace, and FastStream's telemetry middleware carries it on to the projector.
Remembered in memory: a run whose events another pipeline process relays starts a new trace
there.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import Any, ContextManager, Iterator

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind

from shared.observability.tracing import tracer_provider

_KEPT = 10_000
_NO_SPAN = contextlib.nullcontext()


class TraceLinks:
    def __init__(self) -> None:
        self._by_run: OrderedDict[str, SpanContext] = OrderedDict()

    def remember(self, run_ids: Iterator[str] | list[str]) -> None:
        if tracer_provider() is None:
            return
        context = trace.get_current_span().get_span_context()
        if not context.is_valid:
            return
        for run_id in run_ids:
            self._by_run[run_id] = context
            self._by_run.move_to_end(run_id)
        while len(self._by_run) > _KEPT:
            self._by_run.popitem(last=False)

    def relaying(self, run_id: str, event_type: str) -> ContextManager[Any]:
        """The span the relay publishes a run's event in; none (a shared no-op, as the relay
        asks for every event) when tracing is off or the run's trace is not known here."""
        context = self._by_run.get(run_id)
        provider = tracer_provider()
        if context is None or provider is None:
            return _NO_SPAN
        parent = trace.set_span_in_context(NonRecordingSpan(context))
        tracer = provider.get_tracer(__name__)
        return tracer.start_as_current_span(f"relay {event_type}", context=parent, kind=SpanKind.PRODUCER,
                                            attributes={"automation.run_id": run_id})


TRACE_LINKS = TraceLinks()
