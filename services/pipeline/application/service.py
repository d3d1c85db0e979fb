"""Routes a decided command to the runs this process carries."""

from __future__ import annotations

import asyncio

from services.pipeline.application.commands import CommandHandlers, Decision
from services.pipeline.application.supervisor import Supervisor
from shared.events.commands import CancelRun, Command, PauseRun, ResumeRun, StartRun


class PipelineService:
    def __init__(self, handlers: CommandHandlers, supervisor: Supervisor) -> None:
        self.handlers = handlers
        self.supervisor = supervisor

    async def dispatch(self, command: Command) -> Decision:
        if isinstance(command, CancelRun):
            # Abandon any AI call in flight now; if the cancel is refused, the run had ended anyway.
            await self.supervisor.abort(command.run_id, "cancel")
        elif isinstance(command, PauseRun):
            self.supervisor.request_stop(command.run_id, "pause")
        decision = await asyncio.to_thread(self.handlers.handle, command)
        if decision.outcome == "accepted" and isinstance(command, (StartRun, ResumeRun)):
            self.supervisor.launch(command.run_id)
        elif decision.outcome == "rejected" and isinstance(command, PauseRun):
            self.supervisor.withdraw_stop(command.run_id)
        return decision

    async def adopt(self, run_ids: list[str]) -> None:
        for run_id in run_ids:
            self.supervisor.launch(run_id)

    async def release(self, run_ids: list[str]) -> None:
        await asyncio.gather(*(self.supervisor.abort(run_id, "revoked") for run_id in run_ids))
