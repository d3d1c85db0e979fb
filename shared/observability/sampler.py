"""Gauges that are read from somewhere (a table, the broker) rather than counted as things happen."""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

log = logging.getLogger(__name__)
Probe = Callable[[], Awaitable[None]]


async def sample_forever(probes: list[Probe], interval: float) -> None:
    """Runs each probe every ``interval`` seconds; a failing probe is logged (once, until it
    fails differently) and tried again."""
    failing: dict[int, str] = {}
    while True:
        for index, probe in enumerate(probes):
            try:
                await probe()
                failing.pop(index, None)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the broker or database away: the gauge keeps its last value
                if failing.get(index) != repr(error):
                    failing[index] = repr(error)
                    name = getattr(probe, "__qualname__", type(probe).__name__)
                    log.warning("metrics probe %s failed: %r", name, error)
        await asyncio.sleep(interval)
