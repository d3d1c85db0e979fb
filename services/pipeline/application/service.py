"""Routes a decided command to the runs this process carries."""

from __future__ import annotations

import asyncio
import logging

from services.pipeline.application.commands import CommandHandlers, Decision
from services.pipeline.application.supervisor import Supervisor
from shared.events.commands import CancelRun, Command, Outcome, PauseRun, ResumeRun, StartRun

log = logging.getLogger(__name__)


class PipelineService:
    def __init__(self, handlers: CommandHandlers, supervisor: Supervisor) -> None:
        self.handlers = handlers
        self.supervisor = supervisor

    async def dispatch(self, command: Command) -> Decision:
        foreign = await asyncio.to_thread(self.handlers.refuse_if_foreign, command)
        if foreign is not None:
            return foreign
        if isinstance(command, CancelRun):
            # Abandon any AI call in flight now; if the cancel is refused, the run had ended anyway.
            await self.supervisor.abort(command.run_id, "cancel")
        elif isinstance(command, PauseRun):
            self.supervisor.request_stop(command.run_id, "pause")
        decision = await asyncio.to_thread(self.handlers.handle, command)
        if decision.outcome is Outcome.ACCEPTED and isinstance(command, (StartRun, ResumeRun)):
            self.supervisor.launch(command.run_id)
        elif isinstance(command, PauseRun) and decision.outcome is not Outcome.ACCEPTED:
            # Refused, or a redelivery of a pause decided before: this worker carries on
            # (a run that really is paused stops by itself on its next write).
            self.supervisor.withdraw_stop(command.run_id)
        return decision

    async def adopt(self, run_ids: list[str]) -> None:
        if run_ids:
            log.info("carrying on %d running run(s) of newly assigned sites: %s", len(run_ids), run_ids)
        for run_id in run_ids:
            self.supervisor.launch(run_id)

    async def release(self, run_ids: list[str]) -> None:
        if run_ids:
            log.info("letting go of %d run(s) of revoked sites: %s", len(run_ids), run_ids)
        await asyncio.gather(*(self.supervisor.abort(run_id, "revoked") for run_id in run_ids))
