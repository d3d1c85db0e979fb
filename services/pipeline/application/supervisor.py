"""Which runs this process is carrying, and starting or stopping them.

A run is carried by the process that owns its site's partition of the
commands topic, so its control commands arrive where its worker is.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from eventsourcing.persistence import InterfaceError, OperationalError

from services.pipeline.application.worker import StopFlag

log = logging.getLogger(__name__)
Execute = Callable[[str, StopFlag], Awaitable[None]]
OnError = Callable[[str, Exception], Awaitable[None]]
RETRY_AFTER_SECONDS = 2.0


class Supervisor:
    def __init__(self, execute: Execute, on_error: OnError) -> None:
        self._execute = execute
        self._on_error = on_error
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._flags: dict[str, StopFlag] = {}
        self._resumed: set[str] = set()

    def carrying(self) -> set[str]:
        return {run_id for run_id, task in self._tasks.items() if not task.done()}

    def launch(self, run_id: str) -> None:
        if run_id in self.carrying():
            if self._flags[run_id].reason == "pause":
                self._flags[run_id].clear()  # resumed before the worker noticed the pause
                self._resumed.add(run_id)  # ... or after it saw the run paused: see _carry
            return
        flag = StopFlag()
        self._flags[run_id] = flag
        task = asyncio.create_task(self._guarded(run_id, flag), name=f"run-{run_id}")
        self._tasks[run_id] = task

    def request_stop(self, run_id: str, reason: str) -> None:
        """Set before the pause or cancel is recorded, so no new AI call can start after it."""
        flag = self._flags.get(run_id)
        if flag is not None:
            flag.set(reason)

    def withdraw_stop(self, run_id: str) -> None:
        flag = self._flags.get(run_id)
        if flag is None:
            return
        if run_id in self.carrying():
            flag.clear()
        elif flag.reason == "pause":
            # The worker stopped on the flag before the pause was refused (a redelivered
            # PauseRun, say): pick the run up again, or it stays running with no one on it.
            # A run that really is paused or ended makes the new worker return at once.
            self.launch(run_id)

    async def abort(self, run_id: str, reason: str) -> None:
        """Stop at once, abandoning any AI call in flight (cancel, or a lost partition)."""
        self.request_stop(run_id, reason)
        task = self._tasks.get(run_id)
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def abort_all(self) -> None:
        await asyncio.gather(*(self.abort(run_id, "shutdown") for run_id in list(self.carrying())))

    async def _guarded(self, run_id: str, flag: StopFlag) -> None:
        try:
            await self._carry(run_id, flag)
        except asyncio.CancelledError:
            raise
        except (OperationalError, InterfaceError):
            # The database is away: the run is still running in the store, carry on later.
            log.warning("run %s interrupted by a database outage; retrying", run_id)
            await self._retry_later(run_id, flag)
        except Exception as error:
            log.exception("run %s stopped on an unexpected error", run_id)
            try:
                await self._on_error(run_id, error)
            except Exception:
                log.exception("run %s could not be marked failed; retrying", run_id)
                await self._retry_later(run_id, flag)

    async def _carry(self, run_id: str, flag: StopFlag) -> None:
        try:
            while True:
                self._resumed.discard(run_id)
                await self._execute(run_id, flag)
                # A resume that cleared the flag while the worker was already on its way out
                # (it had read the run paused) would leave the run running with no one on it:
                # the worker looks again. A run that ended or is paused returns at once.
                if run_id not in self._resumed or flag.requested:
                    return
        finally:
            self._resumed.discard(run_id)

    async def _retry_later(self, run_id: str, flag: StopFlag) -> None:
        await flag.sleep(RETRY_AFTER_SECONDS)
        if not flag.requested:
            self._tasks.pop(run_id, None)
            self.launch(run_id)
