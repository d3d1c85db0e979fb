"""Counts and times every HTTP request by route template and status, and binds the ids a
request names (site_id, run_id) to its log lines.

A pure ASGI middleware: the route template (``/api/v1/automation/runs/{run_id}``), not the
path, labels the series, so ids never multiply them.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

from services.api.entrypoints.body_limit import App, Receive, Scope, Send
from shared.observability.logs import rebind
from shared.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS

UNMATCHED = "unmatched"  # one label for every path no route serves (404s of scanners, say)


def _bind_ids(scope: Scope) -> None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    rebind(**{name: query[name][0] for name in ("site_id", "run_id") if name in query})


class HttpMetrics:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        _bind_ids(scope)
        status = 500  # what the client gets if the app raises before answering
        started = time.perf_counter()

        async def observed_send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED)
            method = scope["method"]
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)
