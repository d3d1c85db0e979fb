"""Time for asyncio tests that moves only when every task is waiting on it.

    clock = ManualClock()
    clock.stall(at=10.0, seconds=1.5)    # a stopped process: whatever is due meanwhile wakes at 11.5
    clock.wake_late(0.15)                # a busy event loop: every sleeper wakes 0.15 s after it is due
    await clock.run(caller(), caller())  # each awaits clock.sleep(...) and reads clock()

Every task must wait only on ``clock.sleep``: ``run`` lets the tasks run until each waits
(or is done), then wakes the earliest sleeper at its time. The same code gives the same times.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Coroutine
from typing import Any

YIELDS_BEFORE_GIVING_UP = 10_000  # a task waiting on something else would hang the test


class ManualClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._stalls: list[tuple[float, float]] = []
        self._lateness = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        woken = asyncio.get_running_loop().create_future()
        due = self.now + max(0.0, seconds) + self._lateness
        heapq.heappush(self._sleepers, (due, next(self._order), woken))
        await woken

    def stall(self, at: float, seconds: float) -> None:
        """Nothing wakes between ``at`` and ``at + seconds``: what falls due meanwhile wakes at the end."""
        self._stalls.append((at, at + seconds))

    def wake_late(self, seconds: float) -> None:
        """Every sleep from now on ends ``seconds`` after it should (a zero-second one too)."""
        self._lateness = seconds

    async def run(self, *coroutines: Coroutine[Any, Any, Any]) -> None:
        tasks = [asyncio.ensure_future(c) for c in coroutines]
        try:
            while not all(task.done() for task in tasks):
                await self._until_all_wait(tasks)
                if self._sleepers:
                    due, _, woken = heapq.heappop(self._sleepers)
                    self.now = max(self.now, self._after_stalls(due))
                    woken.set_result(None)
            for task in tasks:
                task.result()
        finally:
            for task in tasks:
                task.cancel()

    async def _until_all_wait(self, tasks: list[asyncio.Task[Any]]) -> None:
        for _ in range(YIELDS_BEFORE_GIVING_UP):
            if len(self._sleepers) + sum(task.done() for task in tasks) >= len(tasks):
                return
            await asyncio.sleep(0)
        raise RuntimeError("a task waits on something other than the manual clock")

    def _after_stalls(self, due: float) -> float:
        return next((end for start, end in self._stalls if start <= due < end), due)
