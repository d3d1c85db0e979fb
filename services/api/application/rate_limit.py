"""Per-account limits on the requests that make work: run_now, control commands, keyword uploads."""

from __future__ import annotations

import math

from services.api.application.errors import ApiError
from services.api.application.ports import RateWindow

WINDOW_SECONDS = 60


async def check_rate(window: RateWindow, account_id: str, per_minute: int) -> None:
    """Raise 429 ``rate_limited`` with ``Retry-After`` once the account has made ``per_minute``
    such requests in the last minute (a sliding window, shared by every API replica)."""
    wait = await window.admit(account_id, per_minute, WINDOW_SECONDS)
    if wait is None:
        return
    retry_after = max(1, math.ceil(wait))
    raise ApiError(429, "rate_limited", f"over {per_minute} requests of this kind per minute; retry later",
                   {"limit_per_minute": per_minute, "retry_after": retry_after},
                   headers={"Retry-After": str(retry_after)})
