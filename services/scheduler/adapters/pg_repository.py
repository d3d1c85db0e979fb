"""Configs and slot claims in PostgreSQL (asyncpg)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime
from typing import AsyncIterator

import asyncpg

from services.scheduler.application.ports import ScheduledConfig, SlotClaim

_CONFIGS = """
SELECT c.site_id, s.account_id, c.is_enabled, c.frequency, c.scheduled_time, c.schedule_changed_at,
       (SELECT max(slot_start) FROM schedule_slots t WHERE t.site_id = c.site_id) AS last_slot_taken
FROM automation_config c JOIN sites s ON s.id = c.site_id
WHERE c.is_enabled
ORDER BY c.site_id
"""

# One statement, so the "is another run active" check and the claim see one snapshot. The
# slot's own run counts as not active: after a crash between publish and commit the pipeline
# may already run it, and the retry must republish (deduplicated), not record a skip.
_CLAIM = """
WITH active AS (
    SELECT run_id FROM pipeline_runs
    WHERE site_id = $1::text AND status IN ('running', 'paused') AND run_id <> $3::text
    ORDER BY updated_at DESC LIMIT 1
)
INSERT INTO schedule_slots (site_id, slot_start, outcome, run_id)
SELECT $1::text, $2::timestamptz,
       CASE WHEN EXISTS (SELECT 1 FROM active) THEN 'skipped_active' ELSE 'started' END,
       CASE WHEN EXISTS (SELECT 1 FROM active) THEN NULL ELSE $3 END
ON CONFLICT (site_id, slot_start) DO NOTHING
RETURNING outcome, (SELECT run_id FROM active) AS active_run_id
"""


class PgScheduleRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def configs(self) -> list[ScheduledConfig]:
        return [ScheduledConfig(**dict(row)) for row in await self.pool.fetch(_CONFIGS)]

    @asynccontextmanager
    async def claim(self, site_id: str, slot: datetime, run_id: str) -> AsyncIterator[SlotClaim]:
        # The transaction stays open while the caller publishes: the row, and so the claim,
        # exists for others only once the command is out. A racing INSERT waits on it.
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(_CLAIM, site_id, slot, run_id)
            if row is None:
                yield SlotClaim("taken")
                return
            yield SlotClaim(row["outcome"], row["active_run_id"])
