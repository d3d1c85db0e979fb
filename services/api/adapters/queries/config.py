"""The automation config and the numbers behind an estimate, in PostgreSQL (asyncpg)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from services.api.domain.config import WRITABLE

_STORED = ", ".join((
    "site_id", *WRITABLE, "last_run_at", "schedule_changed_at",
    # The latest scheduled slot the scheduler claimed for the site (see services/scheduler).
    "(SELECT max(slot_start) FROM schedule_slots t WHERE t.site_id = c.site_id) AS last_slot_taken",
))


class PgConfigs:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def config(self, site_id: str) -> dict[str, Any]:
        await self.pool.execute(
            "INSERT INTO automation_config (site_id) VALUES ($1) ON CONFLICT (site_id) DO NOTHING", site_id
        )
        return dict(await self.pool.fetchrow(f"SELECT {_STORED} FROM automation_config c WHERE site_id = $1",
                                             site_id))

    async def save_config(self, site_id: str, changes: Mapping[str, Any],
                          schedule_changed_at: datetime | None) -> dict[str, Any]:
        columns = [column for column in WRITABLE if column in changes]
        assignments = [f"{column} = ${i}" for i, column in enumerate(columns, start=3)]
        assignments.append("schedule_changed_at = COALESCE($2, schedule_changed_at)")
        # The row exists: the use case read it first. RETURNING hands back the saved config.
        row = await self.pool.fetchrow(
            f"UPDATE automation_config c SET {', '.join(assignments)}, updated_at = now()"
            f" WHERE c.site_id = $1 RETURNING {_STORED}",
            site_id, schedule_changed_at, *(changes[column] for column in columns),
        )
        return dict(row)

    async def pending_counts(self, site_id: str) -> dict[int, int]:
        rows = await self.pool.fetch(
            "SELECT stage, count(*) AS n FROM pending_items WHERE site_id = $1 GROUP BY stage", site_id)
        return {int(r["stage"]): int(r["n"]) for r in rows}

    async def available_credits(self, account_id: str) -> int:
        return int(await self.pool.fetchval("SELECT credits - reserved FROM accounts WHERE id = $1", account_id) or 0)
