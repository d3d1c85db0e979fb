"""Per-site automation config, the credit estimate and the pipeline overview (CONTRACT §3.3)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter
from pydantic import ConfigDict, Field, create_model, field_validator

from services.api.adapters.queries.config import PgConfigs
from services.api.adapters.queries.tenancy import require_site
from services.api.application import config as use
from services.api.entrypoints.deps import CallerDep, PoolDep, check_owner
from services.api.entrypoints.json_types import JsonBool, json_int, json_number
from services.api.entrypoints.params import SiteIdQuery as SiteId
from services.api.entrypoints.run_schemas import Config, Estimate, PipelineOverview
from services.api.entrypoints.schemas import errors
from shared.schedule import Frequency, parse_scheduled_time
from shared.stages import BATCH_SIZE_KEYS

router = APIRouter(prefix="/api/v1/automation", tags=["config"], responses=errors(400, 401, 404))
BatchSize = json_int(ge=1, le=1000)
Delay = json_number(ge=0, le=86_400)
Concurrency = json_int(ge=1, le=64, description="AI calls a run keeps in flight")


HH_MM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def _hh_mm(value: str) -> str:
    parse_scheduled_time(value)
    return value


def _no_defaults(schema: dict[str, Any]) -> None:
    """Left out means unchanged: the schema shows no default, and null is not a value."""
    for field in schema.get("properties", {}).values():
        field.pop("default", None)


# Any subset of the writable fields, one batch size per configurable stage of the registry.
# Fields default to None only to tell "left out" from "given"; their types refuse null.
ConfigUpdate = create_model(
    "ConfigUpdate",
    __config__=ConfigDict(extra="forbid", json_schema_extra=_no_defaults),
    __doc__="Any subset of the writable fields; anything else, or null, is refused.",
    __validators__={"_hh_mm": field_validator("scheduled_time")(_hh_mm)},
    is_enabled=(JsonBool, None),
    frequency=(Frequency, None),
    scheduled_time=(str, Field(default=None, pattern=HH_MM_PATTERN, examples=["02:00"],
                               description='"HH:MM", 24-hour, UTC')),
    **{key: (BatchSize, None) for key in BATCH_SIZE_KEYS},
    within_stage_delay=(Delay, None),
    between_stage_delay=(Delay, None),
    ai_concurrency=(Concurrency, None),
)


@router.get("/config", response_model=Config)
async def get_config(site_id: SiteId, caller: CallerDep, pool: PoolDep) -> dict[str, Any]:
    """The site's config, created with the defaults on first read."""
    await require_site(pool, site_id, caller.account_id)
    return await use.read_config(PgConfigs(pool), site_id, _now())


@router.put("/config", response_model=Config, responses=errors(403))
async def update_config(site_id: SiteId, body: ConfigUpdate, caller: CallerDep, pool: PoolDep) -> dict[str, Any]:
    """Change any subset of the writable fields (owners only); it applies from the site's next run.
    An invalid value refuses the whole change."""
    await require_site(pool, site_id, caller.account_id)
    check_owner(caller)
    return await use.update_config(PgConfigs(pool), site_id, body.model_dump(exclude_unset=True), _now())


@router.get("/estimate", response_model=Estimate)
async def get_estimate(site_id: SiteId, caller: CallerDep, pool: PoolDep) -> dict[str, Any]:
    """Credits a run would cost now, and whether the account covers 1.2 x that."""
    await require_site(pool, site_id, caller.account_id)
    return await use.estimate(PgConfigs(pool), site_id, caller.account_id)


@router.get("/pipeline_overview", response_model=PipelineOverview)
async def pipeline_overview(site_id: SiteId, caller: CallerDep, pool: PoolDep) -> dict[str, Any]:
    """What each stage has pending now."""
    await require_site(pool, site_id, caller.account_id)
    return await use.overview(PgConfigs(pool), site_id)


def _now() -> datetime:
    return datetime.now(timezone.utc)
