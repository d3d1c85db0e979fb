"""Routes a decided command to the runs this process carries."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

from services.pipeline.application.commands import CommandHandlers, Decision
from services.pipeline.application.supervisor import Supervisor
from shared.events.commands import CancelRun, Command, Outcome, PauseRun, ResumeRun, StartRun

log = logging.getLogger(__name__)
T = TypeVar("T")
# Commands of different sites are decided side by side (entrypoints/command_lanes.py),
# each decision a few round trips to PostgreSQL: a few threads keep them from queueing.
DECISION_THREADS = 4


class PipelineService:
    def __init__(self, handlers: CommandHandlers, supervisor: Supervisor,
                 decision_threads: int = DECISION_THREADS) -> None:
        self.handlers = handlers
        self.supervisor = supervisor
        # Threads of their own: on the default executor a decision queued behind the step hops
        # of every run carried here, so under load an admission or a pause waited for them all.
        self._deciding = ThreadPoolExecutor(decision_threads, thread_name_prefix="decide")

    async def dispatch(self, command: Command) -> Decision:
        if isinstance(command, (PauseRun, CancelRun)):
            # The supervisor acts before the decision, so first: a redelivery, or another account's run?
            screened = await self._decide(self.handlers.screen, command)
            if screened is not None:
                return screened
            if isinstance(command, CancelRun):
                # Abandon any AI call in flight now; if the cancel is refused, the run had ended anyway.
                await self.supervisor.abort(command.run_id, "cancel")
            else:
                self.supervisor.request_stop(command.run_id, "pause")
        # A start or resume naming another account's run is refused by the rules themselves.
        decision = await self._decide(self.handlers.handle, command)
        if decision.outcome is Outcome.ACCEPTED and isinstance(command, (StartRun, ResumeRun)):
            self.supervisor.launch(command.run_id)
        elif isinstance(command, PauseRun) and decision.outcome is not Outcome.ACCEPTED:
            # Refused, or withdrawn by its sender meanwhile: this worker carries on
            # (a run that really is paused stops by itself on its next write).
            self.supervisor.withdraw_stop(command.run_id)
        return decision

    async def refuse(self, command: Command, code: str) -> None:
        await self._decide(self.handlers.refuse, command, code)

    async def adopt(self, run_ids: list[str]) -> None:
        if run_ids:
            log.info("carrying on %d running run(s) of newly assigned sites: %s", len(run_ids), run_ids)
        for run_id in run_ids:
            self.supervisor.launch(run_id)

    async def release(self, run_ids: list[str]) -> None:
        if run_ids:
            log.info("letting go of %d run(s) of revoked sites: %s", len(run_ids), run_ids)
        await asyncio.gather(*(self.supervisor.abort(run_id, "revoked") for run_id in run_ids))

    async def _decide(self, use_case: Callable[..., T], *args: object) -> T:
        # As asyncio.to_thread does: the command's log fields and trace follow it into the thread.
        call = functools.partial(contextvars.copy_context().run, use_case, *args)
        return await asyncio.get_running_loop().run_in_executor(self._deciding, call)
