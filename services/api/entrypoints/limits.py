"""The caller of a rate-limited route: run_now, pause, resume, cancel, keyword uploads."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.api.adapters.rate_window import PgRateWindow
from services.api.application.rate_limit import check_rate
from services.api.entrypoints.deps import Caller, CallerDep, PoolDep, SettingsDep


async def limited_caller(caller: CallerDep, pool: PoolDep, settings: SettingsDep) -> Caller:
    await check_rate(PgRateWindow(pool), caller.account_id, settings.api_rate_limit_per_minute)
    return caller


LimitedCallerDep = Annotated[Caller, Depends(limited_caller)]
