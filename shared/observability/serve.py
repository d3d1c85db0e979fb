"""The /metrics endpoint of the processes without an HTTP server of their own."""

from __future__ import annotations

import logging

from prometheus_client import start_http_server

from shared.infra.settings import Settings

log = logging.getLogger(__name__)


def serve_metrics(settings: Settings, process: str) -> int | None:
    """Serves the default registry on METRICS_PORT (or the process's default) in a thread;
    returns the port, or None when instrumentation is off."""
    if not settings.instrumentation:
        return None
    port = settings.metrics_port_for(process)
    start_http_server(port, addr=settings.metrics_host)
    log.info("metrics on http://%s:%s/metrics", settings.metrics_host, port)
    return port
