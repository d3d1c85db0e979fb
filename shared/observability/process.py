"""What every service process does first: logs, then tracing."""

from __future__ import annotations

from shared.infra.settings import Settings
from shared.observability.logs import configure_logging
from shared.observability.tracing import configure_tracing


def instrument_process(settings: Settings, process: str) -> None:
    configure_logging(settings, process)
    configure_tracing(settings, process)
