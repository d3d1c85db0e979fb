"""Per-site automation config, the credit estimate and the pipeline overview (CONTRACT §3.3)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.api.deps import CallerDep, PoolDep, check_owner
from services.api.params import SiteIdQuery as SiteId
from services.api.queries import config as q
from services.api.queries.tenancy import require_site
from services.api.run_schemas import Config, Estimate, PipelineOverview
from services.api.schemas import errors
from services.pipeline.domain.credits import quote
from services.pipeline.domain.stages import STAGE_NAMES
from services.scheduler.domain.schedule import FIRE_WINDOW, ScheduleSpec, parse_scheduled_time, upcoming_slot

router = APIRouter(prefix="/api/v1/automation", tags=["config"], responses=errors(400, 401, 404))
HH_MM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
BatchSize = Annotated[int, Field(ge=1, le=1000)]
Delay = Annotated[float, Field(ge=0, le=86_400)]


def _no_defaults(schema: dict[str, Any]) -> None:
    """Left out means unchanged: the schema shows no default, and null is not a value."""
    for field in schema.get("properties", {}).values():
        field.pop("default", None)


class ConfigUpdate(BaseModel):
    """Any subset of the writable fields; anything else, or null, is refused."""

    # Fields default to None only to tell "left out" from "given"; their types refuse null.
    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_defaults)

    is_enabled: bool = None  # type: ignore[assignment]
    frequency: Literal["daily", "weekly", "monthly"] = None  # type: ignore[assignment]
    scheduled_time: str = Field(default=None, pattern=HH_MM_PATTERN, examples=["02:00"],
                                description='"HH:MM", 24-hour, UTC')
    stage_1_batch_size: BatchSize = None  # type: ignore[assignment]
    stage_2_batch_size: BatchSize = None  # type: ignore[assignment]
    stage_3_batch_size: BatchSize = None  # type: ignore[assignment]
    stage_4_batch_size: BatchSize = None  # type: ignore[assignment]
    stage_5_batch_size: BatchSize = None  # type: ignore[assignment]
    stage_6_batch_size: BatchSize = None  # type: ignore[assignment]
    within_stage_delay: Delay = None  # type: ignore[assignment]
    between_stage_delay: Delay = None  # type: ignore[assignment]

    @field_validator("scheduled_time")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        parse_scheduled_time(value)
        return value


@router.get("/config", response_model=Config)
async def get_config(site_id: SiteId, caller: CallerDep, pool: PoolDep) -> dict[str, Any]:
    """The site's config, created with the defaults on first read."""
    await require_site(pool, site_id, caller.account_id)
    return await q.config(pool, site_id)


@router.put("/config", response_model=Config, responses=errors(403))
async def update_config(site_id: SiteId, body: ConfigUpdate, caller: CallerDep, pool: PoolDep) -> dict[str, Any]:
    """Change any subset of the writable fields (owners only); it applies from the site's next run.
    An invalid value refuses the whole change."""
    await require_site(pool, site_id, caller.account_id)
    check_owner(caller)
    changes = body.model_dump(exclude_unset=True)
    current = await q.config(pool, site_id)
    merged = {**current, **changes}
    now = datetime.now(timezone.utc)
    rescheduled = any(current[field] != merged[field] for field in SCHEDULE_FIELDS)
    changed_at = now if rescheduled else await q.schedule_changed_at(pool, site_id)
    next_run_at = _next_run(merged, now, await q.last_slot_taken(pool, site_id), changed_at)
    return await q.save_config(pool, site_id, changes, next_run_at, now if rescheduled else None)


SCHEDULE_FIELDS = ("is_enabled", "frequency", "scheduled_time")


def _next_run(config: dict[str, Any], now: datetime, last_slot_taken: datetime | None,
              changed_at: datetime | None) -> datetime | None:
    if not config["is_enabled"]:
        return None
    spec = ScheduleSpec(config["frequency"], config["scheduled_time"])
    return upcoming_slot(spec, now, last_slot_taken, FIRE_WINDOW, changed_at)


@router.get("/estimate", response_model=Estimate)
async def get_estimate(site_id: SiteId, caller: CallerDep, pool: PoolDep) -> dict[str, Any]:
    """Credits a run would cost now, and whether the account covers 1.2 x that."""
    await require_site(pool, site_id, caller.account_id)
    config = await q.config(pool, site_id)
    offer = quote(await q.pending_counts(pool, site_id), config["stage_1_batch_size"],
                  await q.available_credits(pool, caller.account_id))
    return {
        "estimated_credits": offer.estimate.total,
        "per_stage": {str(stage): credits for stage, credits in offer.estimate.per_stage.items()},
        "required_credits": offer.required,
        "available_credits": offer.available,
        "sufficient": offer.sufficient,
    }


@router.get("/pipeline_overview", response_model=PipelineOverview)
async def pipeline_overview(site_id: SiteId, caller: CallerDep, pool: PoolDep) -> dict[str, Any]:
    """What each of the seven stages has pending now."""
    await require_site(pool, site_id, caller.account_id)
    pending = await q.pending_counts(pool, site_id)
    return {"stages": [{"number": n, "name": name, "pending": pending.get(n, 0)} for n, name in STAGE_NAMES.items()]}
