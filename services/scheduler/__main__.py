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
            except Exception:
                # PostgreSQL unreachable, say: nothing was claimed, so the next tick retries.
                log.exception("tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.scheduler_interval_seconds)
    log.info("scheduler stopped")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    settings.check_production()
    exit_unless_current_schema(settings.database_url)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
