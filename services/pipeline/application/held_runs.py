"""Commits to runs, each starting from the run as this worker last saved it.

A run's worker is the only steady writer of its run, so the instance it saved last is
almost always current: mutating it spares reading the run's new events back (a round trip
per commit). When someone else wrote in between (a pause, a cancel, another process after
a rebalance), the save conflicts on the event's version, the held instance is dropped, and
the attempt is made again on the run read afresh: optimistic concurrency, as before.
"""

from __future__ import annotations

import copy
import threading
from typing import Callable
from uuid import UUID

from services.pipeline.application.commands import CommandHandlers
from services.pipeline.application.ports import RunStore, SideWrite
from services.pipeline.application.retry import retry_on_conflict
from services.pipeline.domain.run import AutomationRun

MAX_HELD = 1000
Mutate = Callable[[AutomationRun], None]
Writes = Callable[[AutomationRun], list[SideWrite]]


def no_writes(run: AutomationRun) -> list[SideWrite]:
    return []


class HeldRuns:
    def __init__(self, store: RunStore, handlers: CommandHandlers) -> None:
        self._store = store
        self._handlers = handlers
        self._runs: dict[str, AutomationRun] = {}
        self._lock = threading.Lock()  # commits run on worker threads

    def commit(self, run_id: str, mutate: Mutate, writes: Writes = no_writes, *, fresh: bool = False) -> None:
        """``mutate`` the run and save it with ``writes``, retrying on conflicts.

        ``fresh``: read the run from the store whatever is held, for a commit that may run
        beside another of the same run (settling a cancelled stage)."""

        def attempt() -> None:
            with self._lock:
                held = None if fresh else self._runs.pop(run_id, None)
            run = held if held is not None else self._store.get(UUID(run_id))
            status = run.status
            mutate(run)
            extra = writes(run)
            if run.status != status:
                aggregates, extra = self._handlers.finish(run, extra)
            else:
                aggregates = [run]
            self._store.save_with(*aggregates, side_writes=extra)
            if run.status in ("running", "paused"):
                self.hold(run)

        # A conflict that outlasts the retries goes to the supervisor, which tries again later.
        retry_on_conflict(attempt)

    def hold(self, run: AutomationRun) -> None:
        """Hold ``run`` as it was just saved (by a commit here, or by its admission)."""
        with self._lock:
            self._runs[run.run_id] = run
            if len(self._runs) > MAX_HELD:  # a cancelled step can hold on to a run that ended
                del self._runs[next(iter(self._runs))]

    def held(self, run_id: str) -> AutomationRun | None:
        """A copy of the run as held (to read, not to mutate), if it is."""
        with self._lock:
            held = self._runs.get(run_id)
        return copy.deepcopy(held) if held is not None else None

    def latest(self, run_id: str) -> AutomationRun:
        """The run as held, else as stored."""
        return self.held(run_id) or self._store.get(UUID(run_id))

    def forget(self, run_id: str) -> None:
        with self._lock:
            self._runs.pop(run_id, None)
