"""Run control and run reads (CONTRACT §3.3)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from services.api.command_bus import DecisionTimeout
from services.api.deps import BusDep, CallerDep, PoolDep
from services.api.errors import ApiError, not_found
from services.api.queries import runs as q
from services.api.queries.tenancy import require_site
from shared.events.commands import CancelRun, PauseRun, ResumeRun, StartRun

router = APIRouter(prefix="/api/v1/automation", tags=["runs"])
SiteId = Annotated[str, Query(min_length=1, description="The site's id")]
RunId = Annotated[str, Query(min_length=1, description="The run's id")]


@router.post("/run_now", status_code=202)
async def run_now(site_id: SiteId, caller: CallerDep, pool: PoolDep, bus: BusDep) -> dict[str, Any]:
    """Start a run now; answers once the pipeline has admitted or refused it."""
    await require_site(pool, site_id, caller.account_id)
    command = StartRun(site_id=site_id, account_id=caller.account_id, run_id=str(uuid.uuid4()))
    try:
        decision = await bus.decide(command)
    except DecisionTimeout:
        raise ApiError(503, "pipeline_unavailable", "the pipeline did not answer in time; try again") from None
    if decision["outcome"] != "accepted":
        raise ApiError(400, decision["error_code"], _refusal(decision["error_code"]), decision["details"])
    await q.wait_for_run(pool, command.run_id)
    return {"run_id": command.run_id, "status": "running"}


def _refusal(code: str) -> str:
    return {
        "run_active": "the site already has a running or paused run",
        "insufficient_credits": "the account's credits do not cover 1.2 x the estimate",
    }.get(code, "the run was refused")


@router.get("/current_run")
async def current_run(site_id: SiteId, caller: CallerDep, pool: PoolDep) -> dict[str, Any]:
    await require_site(pool, site_id, caller.account_id)
    return {"run": await q.current_run(pool, site_id)}


@router.get("/history")
async def history(
    site_id: SiteId, caller: CallerDep, pool: PoolDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20, offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    await require_site(pool, site_id, caller.account_id)
    runs, total = await q.history(pool, site_id, limit, offset)
    return {"runs": runs, "total": total}


@router.get("/runs/{run_id}")
async def get_run(run_id: str, caller: CallerDep, pool: PoolDep) -> dict[str, Any]:
    run = await q.run_of_account(pool, run_id, caller.account_id)
    if run is None:
        raise not_found("run")
    return run


@router.get("/runs/{run_id}/events")
async def run_events(run_id: str, caller: CallerDep, pool: PoolDep) -> dict[str, Any]:
    if await q.run_of_account(pool, run_id, caller.account_id) is None:
        raise not_found("run")
    return {"events": await q.events(pool, run_id)}


@router.get("/logs")
async def logs(
    run_id: RunId, caller: CallerDep, pool: PoolDep,
    lines: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> dict[str, Any]:
    if await q.run_of_account(pool, run_id, caller.account_id) is None:
        raise not_found("run")
    return {"run_id": run_id, "lines": await q.log_lines(pool, run_id, lines)}


@router.get("/current_processing")
async def current_processing(site_id: SiteId, caller: CallerDep, pool: PoolDep) -> dict[str, Any]:
    await require_site(pool, site_id, caller.account_id)
    return {"processing": await q.processing(pool, site_id)}


_CONTROLS = {
    "pause": (PauseRun, ("running",)),
    "resume": (ResumeRun, ("paused",)),
    "cancel": (CancelRun, ("running", "paused")),
}


async def _control(action: str, run_id: str, caller: Any, pool: Any, bus: Any) -> JSONResponse:
    command_class, allowed = _CONTROLS[action]
    run = await q.run_of_account(pool, run_id, caller.account_id)
    if run is None:
        raise not_found("run")
    if run["status"] not in allowed:
        raise ApiError(400, "invalid_transition", f"cannot {action} a run that is {run['status']}",
                       {"status": run["status"]})
    await bus.send(command_class(site_id=run["site_id"], account_id=caller.account_id, run_id=run_id))
    return JSONResponse(status_code=202, content={"run_id": run_id, "command": action})


@router.post("/pause", status_code=202)
async def pause(run_id: RunId, caller: CallerDep, pool: PoolDep, bus: BusDep) -> JSONResponse:
    """Pause a running run: no new AI call starts once the pipeline takes the command."""
    return await _control("pause", run_id, caller, pool, bus)


@router.post("/resume", status_code=202)
async def resume(run_id: RunId, caller: CallerDep, pool: PoolDep, bus: BusDep) -> JSONResponse:
    """Resume a paused run at its recorded stage."""
    return await _control("resume", run_id, caller, pool, bus)


@router.post("/cancel", status_code=202)
async def cancel(run_id: RunId, caller: CallerDep, pool: PoolDep, bus: BusDep) -> JSONResponse:
    """Cancel a running or paused run, aborting AI calls in flight."""
    return await _control("cancel", run_id, caller, pool, bus)
