"""Admin endpoints (CONTRACT §3.1): accounts, credits, sites, tokens."""

from __future__ import annotations

import secrets
import uuid
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.api.deps import AdminDep, PoolDep, hash_token
from services.api.errors import not_found

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


class AccountCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    credits: int = Field(ge=0, le=10**12)


class CreditsTopUp(BaseModel):
    amount: int = Field(gt=0, le=10**12)


class SiteCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    domain: str = Field(min_length=1, max_length=253)


class TokenCreate(BaseModel):
    role: Literal["owner", "member"]


@router.post("/accounts", status_code=201)
async def create_account(body: AccountCreate, _: AdminDep, pool: PoolDep) -> dict[str, Any]:
    account_id = str(uuid.uuid4())
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("INSERT INTO accounts (id, name, credits) VALUES ($1, $2, $3)",
                           account_id, body.name, body.credits)
        await conn.execute(
            "INSERT INTO credit_ledger (entry_key, account_id, kind, amount) VALUES ($1, $2, 'topup', $3)",
            f"{account_id}:opening", account_id, body.credits,
        )
    return {"id": account_id, "name": body.name, "credits": body.credits}


@router.post("/accounts/{account_id}/credits")
async def add_credits(account_id: str, body: CreditsTopUp, _: AdminDep, pool: PoolDep) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        balance = await conn.fetchval(
            "UPDATE accounts SET credits = credits + $2 WHERE id = $1 RETURNING credits", account_id, body.amount
        )
        if balance is None:
            raise not_found("account")
        await conn.execute(
            "INSERT INTO credit_ledger (entry_key, account_id, kind, amount) VALUES ($1, $2, 'topup', $3)",
            f"{account_id}:topup:{uuid.uuid4()}", account_id, body.amount,
        )
    return {"account_id": account_id, "credits": int(balance)}


@router.post("/accounts/{account_id}/sites", status_code=201)
async def create_site(account_id: str, body: SiteCreate, _: AdminDep, pool: PoolDep) -> dict[str, Any]:
    site_id = str(uuid.uuid4())
    created = await pool.fetchval(
        "INSERT INTO sites (id, account_id, name, domain) SELECT $1, id, $3, $4 FROM accounts WHERE id = $2"
        " RETURNING id",
        site_id, account_id, body.name, body.domain,
    )
    if created is None:
        raise not_found("account")
    return {"id": site_id, "account_id": account_id, "name": body.name, "domain": body.domain}


@router.post("/accounts/{account_id}/tokens", status_code=201)
async def create_token(account_id: str, body: TokenCreate, _: AdminDep, pool: PoolDep) -> dict[str, Any]:
    token = secrets.token_urlsafe(32)
    created = await pool.fetchval(
        "INSERT INTO api_tokens (token_hash, account_id, role) SELECT $1, id, $3 FROM accounts WHERE id = $2"
        " RETURNING account_id",
        hash_token(token), account_id, body.role,
    )
    if created is None:
        raise not_found("account")
    return {"token": token}
