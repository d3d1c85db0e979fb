"""Request dependencies: settings, connections, and who is calling."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.api.adapters.command_bus import CommandBus
from services.api.adapters.queries.runs import PgRuns
from services.api.adapters.stream_hub import StreamHub
from services.api.application.errors import ApiError
from services.api.adapters.queries.tenancy import token_owner
from shared.infra.settings import Settings
from shared.observability.logs import bind

bearer = HTTPBearer(auto_error=False, description="An account token, or the admin token for /admin")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    account_id: str
    role: str  # owner | member


# Dependencies are coroutines even when they await nothing: FastAPI runs a plain ``def``
# dependency on its thread pool, a thread hop (and a wait for the GIL) per request each.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool


async def get_bus(request: Request) -> CommandBus:
    return request.app.state.bus


async def get_hub(request: Request) -> StreamHub:
    return request.app.state.stream_hub


SettingsDep = Annotated[Settings, Depends(get_settings)]
PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
BusDep = Annotated[CommandBus, Depends(get_bus)]
HubDep = Annotated[StreamHub, Depends(get_hub)]


async def get_runs(pool: PoolDep, hub: HubDep) -> PgRuns:
    return PgRuns(pool, hub)


RunsDep = Annotated[PgRuns, Depends(get_runs)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", "a valid bearer token is required")


async def require_admin(settings: SettingsDep, credentials: Credentials) -> None:
    if credentials is None:
        raise _unauthorized()
    if not hmac.compare_digest(credentials.credentials.encode(), settings.automation_admin_token.get_secret_value().encode()):
        raise _unauthorized()


async def require_caller(pool: PoolDep, credentials: Credentials) -> Caller:
    if credentials is None:
        raise _unauthorized()
    row = await token_owner(pool, hash_token(credentials.credentials))
    if row is None:
        raise _unauthorized()
    bind(account_id=row["account_id"])
    return Caller(row["account_id"], row["role"])


def check_owner(caller: Caller) -> None:
    """Members may read and steer runs but not change the config.

    Called after the site's tenancy check, so another account's site is a 404 for members too."""
    if caller.role != "owner":
        raise ApiError(403, "forbidden", "only an owner of the account may do this")


AdminDep = Annotated[None, Depends(require_admin)]
CallerDep = Annotated[Caller, Depends(require_caller)]
