"""The flag a pause, a cancel or a lost partition sets on a run's worker."""

from __future__ import annotations

import asyncio


class StopFlag:
    """Set by a pause, a cancel or a lost partition; wakes any delay at once."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self._event = asyncio.Event()

    def set(self, reason: str) -> None:
        self.reason = reason
        self._event.set()

    def clear(self) -> None:
        self.reason = None
        self._event.clear()

    @property
    def requested(self) -> bool:
        return self.reason is not None

    async def sleep(self, seconds: float) -> None:
        if seconds > 0 and not self.requested:
            try:
                await asyncio.wait_for(self._event.wait(), timeout=seconds)
            except asyncio.TimeoutError:
                pass
