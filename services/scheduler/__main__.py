"""``python -m services.scheduler``: start scheduled runs, one tick every interval, until SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from services.scheduler.bootstrap import build
from shared.infra.migrate import exit_unless_current_schema
from shared.infra.settings import Settings, get_settings
from shared.infra.topics import ensure_topics
from shared.observability.metrics import SCHEDULER_TICKS
from shared.observability.process import instrument_process
from shared.observability.serve import serve_metrics

log = logging.getLogger("scheduler")


async def serve(settings: Settings) -> None:
    await ensure_topics(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with build(settings) as tick:
        log.info("scheduler ticking every %ss", settings.scheduler_interval_seconds)
        while not stop.is_set():
            try:
                await tick()
                SCHEDULER_TICKS.labels("ok").inc()
            except Exception:
                # PostgreSQL unreachable, say: nothing was claimed, so the next tick retries.
                log.exception("tick failed")
                SCHEDULER_TICKS.labels("error").inc()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.scheduler_interval_seconds)
    log.info("scheduler stopped")


def main() -> None:
    settings = get_settings()
    instrument_process(settings, "scheduler")
    settings.check_production()
    exit_unless_current_schema(settings.database_url)
    serve_metrics(settings, "scheduler")
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
