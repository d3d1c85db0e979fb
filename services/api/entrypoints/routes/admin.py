"""Admin endpoints (CONTRACT §3.1): accounts, credits, sites, tokens."""

from __future__ import annotations

import secrets
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.api.entrypoints.deps import AdminDep, PoolDep, hash_token
from services.api.entrypoints.params import NO_NUL, AccountIdPath
from services.api.adapters.queries import tenancy as q
from services.api.entrypoints.schemas import Account, Balance, IssuedToken, Site, errors

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=errors(400, 401))
MAX_CREDITS = 10**12


class AccountCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    credits: int = Field(ge=0, le=MAX_CREDITS)


class CreditsTopUp(BaseModel):
    amount: int = Field(gt=0, le=MAX_CREDITS)


class AccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_ai_concurrency: int = Field(ge=1, le=256)


class SiteCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    domain: str = Field(min_length=1, max_length=253, pattern=NO_NUL)


class TokenCreate(BaseModel):
    role: Literal["owner", "member"]


@router.post("/accounts", status_code=201)
async def create_account(body: AccountCreate, _: AdminDep, pool: PoolDep) -> Account:
    account_id = await q.create_account(pool, body.name, body.credits)
    return Account(id=account_id, name=body.name, credits=body.credits)


@router.patch("/accounts/{account_id}", responses=errors(404))
async def update_account(account_id: AccountIdPath, body: AccountUpdate, _: AdminDep, pool: PoolDep) -> Account:
    """Set the account's ceiling of AI calls in flight, shared by all its running runs."""
    return Account(**await q.set_max_ai_concurrency(pool, account_id, body.max_ai_concurrency))


@router.post("/accounts/{account_id}/credits", responses=errors(404))
async def add_credits(account_id: AccountIdPath, body: CreditsTopUp, _: AdminDep, pool: PoolDep) -> Balance:
    """Top up the account; answers the new balance."""
    return Balance(account_id=account_id, credits=await q.add_credits(pool, account_id, body.amount))


@router.post("/accounts/{account_id}/sites", status_code=201, responses=errors(404))
async def create_site(account_id: AccountIdPath, body: SiteCreate, _: AdminDep, pool: PoolDep) -> Site:
    site_id = await q.create_site(pool, account_id, body.name, body.domain)
    return Site(id=site_id, account_id=account_id, name=body.name, domain=body.domain)


@router.post("/accounts/{account_id}/tokens", status_code=201, responses=errors(404))
async def create_token(account_id: AccountIdPath, body: TokenCreate, _: AdminDep, pool: PoolDep) -> IssuedToken:
    """Issue a bearer token for the account: shown once, stored only as its SHA-256 hash."""
    token = secrets.token_urlsafe(32)
    await q.create_token(pool, account_id, hash_token(token), body.role)
    return IssuedToken(token=token)
