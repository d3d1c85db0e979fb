"""How many AI calls may be in flight: per run, per account (in PostgreSQL), per process.

A run asks its account for ``ai_concurrency`` slots and holds the lease it gets while a
stage works, renewing it every few seconds; the account's ceiling is shared by all its
running runs, in every process. A process that dies stops renewing and its slots lapse
after LEASE_SECONDS. The process's own cap (AI_MAX_IN_FLIGHT) is a semaphore every
AI call of the process passes.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from typing import Any, Awaitable, Callable

from services.pipeline.application.ports import AccountSlots, SideWrite

LEASE_SECONDS = 15.0
RENEW_SECONDS = 2.0


MAX_WINDOW = 128  # items of a run admitted and not yet recorded, at most


def queue_length(width: int, step_seconds: float | None, call_seconds: float | None) -> int:
    """Items to keep waiting for a run's ``width`` slots: enough to keep every slot busy while
    a step (one hop to the database) admits the next ones, at the pace calls return; at least
    a slot's worth, so that slots never wait for a step. Fast calls thus come in big groups,
    few transactions for many items; slow ones in groups of about the run's slots. Before
    both paces are known: a slot's worth."""
    if not width or call_seconds is None or step_seconds is None:
        return width
    return max(width, min(MAX_WINDOW - width, math.ceil(width * step_seconds / max(call_seconds, 1e-4))))


class Pace:
    """A moving average of durations (None until the first)."""

    WEIGHT = 0.2

    def __init__(self) -> None:
        self.seconds: float | None = None

    def add(self, seconds: float) -> None:
        self.seconds = seconds if self.seconds is None else self.seconds + self.WEIGHT * (seconds - self.seconds)


class CallNotStarted(Exception):
    """The run stopped (a pause, a cancel, a lost partition) while the call waited for a slot:
    it was never made, and its item stays pending."""


class RunGate:
    """The run's own cap on calls in flight: the slots its lease grants, which may change
    while calls wait. Items admitted beyond it wait here, so a slot that frees up starts the
    next call at once, without a trip to the database; once the run stops, none starts.

    A freed slot wakes one waiting call (a resize or a stop wakes them all), not every one of
    them to race for the lock as a condition's notify_all did: at 0 ms AI, a run's queue is
    up to MAX_WINDOW items, and each call's return woke them all."""

    def __init__(self, stopped: Callable[[], bool] = lambda: False) -> None:
        self.stopped = stopped
        self.limit = 0
        self.active = 0
        self._waiting: deque[asyncio.Future[None]] = deque()  # in arrival order
        self.call_seconds = Pace()  # how long a call holds its slot

    def resize(self, limit: int) -> None:
        if limit != self.limit:
            self.limit = limit
            self._wake(len(self._waiting))

    def wake(self) -> None:
        """Let the waiting calls look again: the run may have stopped."""
        self._wake(len(self._waiting))

    def slot(self) -> "_Slot":
        return _Slot(self)

    async def _enter(self) -> None:
        while self.active >= self.limit and not self.stopped():
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake(1)  # woken, then cancelled before it looked: the next one looks instead
                raise
        if self.stopped():
            raise CallNotStarted
        self.active += 1

    def _leave(self, seconds: float) -> None:
        self.call_seconds.add(seconds)
        self.active -= 1
        # A stopped run's waiters all give up; otherwise one looks again per free slot.
        self._wake(len(self._waiting) if self.stopped() else self.limit - self.active)

    def _wake(self, count: int) -> None:
        while count > 0 and self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():  # a cancelled waiter is skipped
                waiter.set_result(None)
                count -= 1


class _Slot:
    """One call's hold on a slot of its run's gate, timed."""

    __slots__ = ("_gate", "_started")

    def __init__(self, gate: RunGate) -> None:
        self._gate = gate
        self._started = 0.0

    async def __aenter__(self) -> None:
        await self._gate._enter()
        self._started = time.monotonic()

    async def __aexit__(self, *_: Any) -> None:
        self._gate._leave(time.monotonic() - self._started)


def capped(ask: Callable[..., Awaitable[Any]], gate: asyncio.Semaphore,
           run_gate: RunGate) -> Callable[..., Awaitable[Any]]:
    """The AI call, waiting first for one of the run's slots, then one of the process's."""

    async def call(*args: Any) -> Any:
        async with run_gate.slot(), gate:
            if run_gate.stopped():  # checked once both waits are over: no call after a stop
                raise CallNotStarted
            return await ask(*args)

    return call


class RunSlots:
    """A run's lease of its account's slots: ``width()`` is how many calls it may keep in flight.

    One lease per run, kept from stage to stage (each stage says how many slots it wants) and
    given back when the run's worker stops or waits between stages."""

    def __init__(self, slots: AccountSlots, account_id: str, holder: str, wanted: int = 0) -> None:
        self._slots = slots
        self._account_id = account_id
        self._holder = holder
        self._wanted = wanted
        self._granted = 0
        self._renewed_at = float("-inf")

    @property
    def granted(self) -> int:
        """The slots of the last lease, as ``width()`` returns them until a renewal is due."""
        return self._granted

    @property
    def renew_in(self) -> float:
        return max(0.0, self._renewed_at + RENEW_SECONDS - time.monotonic())

    def want(self, wanted: int) -> None:
        if wanted != self._wanted:
            self._wanted, self._renewed_at = wanted, float("-inf")  # asked again at the next width()

    def renew(self) -> None:
        """Lease now, blocking: for a thread that goes to the database anyway."""
        self._granted = self._slots.lease(self._account_id, self._holder, self._wanted, LEASE_SECONDS)
        self._renewed_at = time.monotonic()

    async def width(self) -> int:
        if self.renew_in <= 0:
            await asyncio.to_thread(self.renew)
        return self._granted

    async def release(self) -> None:
        if self._renewed_at > float("-inf"):
            await asyncio.to_thread(self.give_back)

    def give_back(self) -> None:
        """Release now, blocking: for a thread that goes to the database anyway."""
        if self._renewed_at > float("-inf"):
            self._slots.lease(self._account_id, self._holder, 0, LEASE_SECONDS)
            self.given_back()

    def give_back_with(self) -> list[SideWrite]:
        """The release as a write of another transaction (the run's completion): none when
        nothing is held. Once that transaction committed, ``given_back()``."""
        return [self._slots.give_back(self._account_id, self._holder)] if self._renewed_at > float("-inf") else []

    def given_back(self) -> None:
        self._granted, self._renewed_at = 0, float("-inf")
