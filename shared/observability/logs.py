"""One JSON object per line from every process, stdlib ``logging`` calls included.

Records carry whatever structlog's context variables hold (``run_id``, ``site_id``,
``account_id``, bound where they become known) and the current trace's ``trace_id``.
LOG_FORMAT=console renders the same records for a human.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from opentelemetry import trace

from shared.infra.settings import Settings


def add_trace_ids(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", format(context.span_id, "016x"))
    return event


def configure_logging(settings: Settings, process: str) -> None:
    stamped: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_ids,
        lambda _, __, event: {**event, "process": process},
    ]
    renderer: Any = (structlog.processors.JSONRenderer() if settings.log_format == "json"
                     else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[*stamped, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=stamped,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    # FastStream and uvicorn bring handlers of their own: their records go through ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "faststream", "faststream.access.kafka"):
        named = logging.getLogger(name)
        named.handlers = []
        named.propagate = True


def bind(**ids: Any) -> None:
    """Adds ids (run_id, site_id, account_id) to every later record of this task and the
    tasks it starts; None values are left out."""
    structlog.contextvars.bind_contextvars(**{k: str(v) for k, v in ids.items() if v is not None})


def rebind(**ids: Any) -> None:
    """Like bind, forgetting what was bound before (a new message or request in a reused task)."""
    structlog.contextvars.clear_contextvars()
    bind(**ids)
