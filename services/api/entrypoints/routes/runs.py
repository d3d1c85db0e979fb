"""Run control and run reads (CONTRACT §3.3)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from services.api.entrypoints.deps import BusDep, CallerDep, PoolDep, RunsDep
from services.api.entrypoints.limits import LimitedCallerDep
from services.api.application.errors import not_found
from services.api.entrypoints.params import AfterSequence, AsOf, EventsLimit, HistoryLimit, LogLines, Offset, RunIdPath, RunIdQuery, SiteIdQuery
from services.api.adapters.queries import runs as q
from services.api.adapters.queries.tenancy import require_site
from services.api.application.run_control import admit_run, control_run
from services.api.entrypoints.run_schemas import (
    ControlAccepted, CurrentRun, History, Logs, Processing, Run, RunAdmitted, RunEvents,
)
from services.api.entrypoints.schemas import errors, rate_limited

router = APIRouter(prefix="/api/v1/automation", tags=["runs"], responses=errors(400, 401, 404))


_SERVER_TIMING = {"Server-Timing": {"description": "`decide;dur=<ms>, project;dur=<ms>`",
                                     "schema": {"type": "string"}}}


@router.post("/run_now", status_code=202, response_model=RunAdmitted,
             responses={**errors(503), **rate_limited(),
                        202: {"description": "Admitted", "headers": _SERVER_TIMING}})
async def run_now(site_id: SiteIdQuery, caller: LimitedCallerDep, pool: PoolDep, bus: BusDep, runs: RunsDep,
                  response: Response) -> dict[str, Any]:
    """Start a run now; answers once the pipeline has admitted it (202) or refused it
    (400 `run_active`, or `insufficient_credits` with `required` and `available`).
    The `Server-Timing` header splits the wait: `decide` (pipeline) and `project` (read model)."""
    await require_site(pool, site_id, caller.account_id)
    admission = await admit_run(runs, bus, site_id, caller.account_id)
    response.headers["Server-Timing"] = admission.server_timing()
    return {"run_id": admission.run_id, "status": "running"}


@router.get("/current_run", response_model=CurrentRun)
async def current_run(site_id: SiteIdQuery, caller: CallerDep, pool: PoolDep) -> dict[str, Any]:
    """The site's running or paused run, if any."""
    await require_site(pool, site_id, caller.account_id)
    return {"run": await q.current_run(pool, site_id)}


@router.get("/history", response_model=History)
async def history(site_id: SiteIdQuery, caller: CallerDep, pool: PoolDep,
                  limit: HistoryLimit = 20, offset: Offset = 0) -> dict[str, Any]:
    """The site's runs, newest first."""
    await require_site(pool, site_id, caller.account_id)
    runs, total = await q.history(pool, site_id, limit, offset)
    return {"runs": runs, "total": total}


@router.get("/runs/{run_id}", response_model=Run)
async def get_run(run_id: RunIdPath, caller: CallerDep, pool: PoolDep, as_of: AsOf = None) -> dict[str, Any]:
    """The run now, or with `as_of` the run as it stood at that moment (folded from its events)."""
    run = await (q.run_of_account(pool, run_id, caller.account_id) if as_of is None
                 else q.run_as_of(pool, run_id, caller.account_id, q.as_utc(as_of)))
    if run is None:
        raise not_found("run")
    return run


@router.get("/runs/{run_id}/events", response_model=RunEvents)
async def run_events(run_id: RunIdPath, caller: CallerDep, pool: PoolDep,
                     limit: EventsLimit = 1000, after_sequence: AfterSequence = 0) -> dict[str, Any]:
    """The run's audit trail in order, with its hash chain, a page at a time."""
    if not await q.run_exists(pool, run_id, caller.account_id):
        raise not_found("run")
    events, has_more = await q.events(pool, run_id, after_sequence, limit)
    return {"events": events, "has_more": has_more}


@router.get("/logs", response_model=Logs)
async def logs(run_id: RunIdQuery, caller: CallerDep, pool: PoolDep, lines: LogLines = 100) -> dict[str, Any]:
    """The run's last `lines` log lines, oldest first."""
    if not await q.run_exists(pool, run_id, caller.account_id):
        raise not_found("run")
    return {"run_id": run_id, "lines": await q.log_lines(pool, run_id, lines)}


@router.get("/current_processing", response_model=Processing)
async def current_processing(site_id: SiteIdQuery, caller: CallerDep, pool: PoolDep) -> dict[str, Any]:
    """What the site's running run is working on right now."""
    await require_site(pool, site_id, caller.account_id)
    return {"processing": await q.processing(pool, site_id)}


@router.post("/pause", status_code=202, response_model=ControlAccepted, responses=rate_limited())
async def pause(run_id: RunIdQuery, caller: LimitedCallerDep, runs: RunsDep, bus: BusDep) -> dict[str, Any]:
    """Pause a running run (400 `invalid_transition` otherwise): no new AI call starts."""
    return await control_run(runs, bus, "pause", run_id, caller.account_id)


@router.post("/resume", status_code=202, response_model=ControlAccepted, responses=rate_limited())
async def resume(run_id: RunIdQuery, caller: LimitedCallerDep, runs: RunsDep, bus: BusDep) -> dict[str, Any]:
    """Resume a paused run at its recorded stage (400 `invalid_transition` otherwise), if what
    the run may still spend covers the most its next batch can cost (else 400
    `insufficient_credits` with `required` and `available`)."""
    return await control_run(runs, bus, "resume", run_id, caller.account_id)


@router.post("/cancel", status_code=202, response_model=ControlAccepted, responses=rate_limited())
async def cancel(run_id: RunIdQuery, caller: LimitedCallerDep, runs: RunsDep, bus: BusDep) -> dict[str, Any]:
    """Cancel a running or paused run, aborting AI calls in flight
    (400 `invalid_transition` if it has completed, been cancelled or failed)."""
    return await control_run(runs, bus, "cancel", run_id, caller.account_id)
