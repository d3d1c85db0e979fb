"""Run commands as the API issues them: each answer is the pipeline's decision."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

from services.api.application.errors import ApiError, not_found
from services.api.application.ports import CommandBus, DecisionTimeout, Runs
from shared.events.commands import CancelRun, Outcome, PauseRun, ResumeRun, StartRun

_REFUSALS = {
    "run_active": "the site already has a running or paused run",
    "insufficient_credits": "the account's credits do not cover 1.2 x the estimate",
}
_CONTROL_REFUSALS = {
    "insufficient_credits": "what the run may still spend does not cover the most its next batch can cost",
}
_CONTROLS = {"pause": PauseRun, "resume": ResumeRun, "cancel": CancelRun}


@dataclass(frozen=True)
class Admission:
    run_id: str
    decide_ms: float   # command sent → the pipeline's decision seen
    project_ms: float  # decision → the run visible in the read model

    def server_timing(self) -> str:
        return f"decide;dur={self.decide_ms:.1f}, project;dur={self.project_ms:.1f}"


async def admit_run(runs: Runs, bus: CommandBus, site_id: str, account_id: str) -> Admission:
    """Admit a run: once the pipeline has decided and the read model shows the run
    (so the caller's next read finds it), or raise the refusal."""
    # One indexed read refuses the common case (the site is busy) without a command or an estimate;
    # the pipeline's site slot still decides every race.
    active = await runs.active_run(site_id)
    if active is not None:
        raise ApiError(400, "run_active", _REFUSALS["run_active"], {"run_id": active})
    command = StartRun(site_id=site_id, account_id=account_id, run_id=str(uuid.uuid4()))
    started = time.perf_counter()
    decision = await _decision(bus, command)
    if decision["outcome"] != Outcome.ACCEPTED:
        code = decision["error_code"]
        raise ApiError(400, code, _REFUSALS.get(code, "the run was refused"), decision["details"])
    decided = time.perf_counter()
    await runs.wait_for_run(site_id, command.run_id)
    return Admission(command.run_id, (decided - started) * 1000, (time.perf_counter() - decided) * 1000)


async def control_run(runs: Runs, bus: CommandBus, action: str, run_id: str,
                      account_id: str) -> dict[str, Any]:
    """Pause, resume or cancel: answered with the pipeline's decision, which follows every
    earlier command of the site (the read model may still lag behind them)."""
    command_class = _CONTROLS[action]
    head = await runs.run_head(run_id, account_id)
    if head is None:
        raise not_found("run")
    decision = await _decision(bus, command_class(site_id=head["site_id"], account_id=account_id, run_id=run_id))
    if decision["outcome"] != Outcome.ACCEPTED:
        code = decision["error_code"]
        if code in _CONTROL_REFUSALS:
            raise ApiError(400, code, _CONTROL_REFUSALS[code], decision["details"])
        status = decision["details"].get("status", head["status"])
        raise ApiError(400, "invalid_transition", f"cannot {action} a run that is {status}", {"status": status})
    return {"run_id": run_id, "command": action}


async def _decision(bus: CommandBus, command: Any) -> Mapping[str, Any]:
    try:
        return await bus.decide(command)
    except DecisionTimeout:
        if await bus.withdraw(command):  # so it can't take effect later behind the caller's back
            raise ApiError(503, "pipeline_unavailable", "the pipeline did not answer in time; try again") from None
        return await bus.decision(command.command_id)  # decided just now: answer with it
