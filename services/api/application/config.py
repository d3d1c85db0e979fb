"""Use cases of a site's automation config, its estimate and its pipeline overview."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.api.application.errors import invalid
from services.api.application.ports import Configs
from services.api.domain.config import present, rescheduled
from shared.credits import quote
from shared.stages import STAGES


async def read_config(configs: Configs, site_id: str, now: datetime) -> dict[str, Any]:
    return present(await configs.config(site_id), now)


async def update_config(configs: Configs, site_id: str, changes: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Apply any subset of the writable fields; it applies from the site's next run."""
    if unset := sorted(field for field, value in changes.items() if value is None):
        raise invalid("fields may be left out but not set to null", fields=unset)
    current = await configs.config(site_id)
    changed_at = now if rescheduled(current, changes) else None
    return present(await configs.save_config(site_id, changes, changed_at), now)


async def estimate(configs: Configs, site_id: str, account_id: str) -> dict[str, Any]:
    config = await configs.config(site_id)
    offer = quote(await configs.pending_counts(site_id), config, await configs.available_credits(account_id))
    return {
        "estimated_credits": offer.estimate.total,
        "per_stage": {str(stage): credits for stage, credits in offer.estimate.per_stage.items()},
        "required_credits": offer.required,
        "available_credits": offer.available,
        "sufficient": offer.sufficient,
        "ai_concurrency": config["ai_concurrency"],
    }


async def overview(configs: Configs, site_id: str) -> dict[str, Any]:
    pending = await configs.pending_counts(site_id)
    return {"stages": [{"number": s.number, "name": s.name, "pending": pending.get(s.number, 0)} for s in STAGES]}
