"""The account's sites: what a dashboard signed in with an account token lists first."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from services.api.entrypoints.deps import CallerDep, PoolDep
from services.api.adapters.queries.sites import sites_of_account
from services.api.entrypoints.schemas import errors

router = APIRouter(prefix="/api/v1", tags=["planner"], responses=errors(400, 401))


class SiteSummary(BaseModel):
    id: str
    account_id: str
    name: str
    domain: str


class Sites(BaseModel):
    sites: list[SiteSummary]


@router.get("/sites", response_model=Sites)
async def list_sites(caller: CallerDep, pool: PoolDep) -> dict[str, Any]:
    """The sites of the token's account, oldest first."""
    return {"sites": await sites_of_account(pool, caller.account_id)}
