"""The pipeline's sampled gauges: runs by status, and the outbox's lag behind the event store."""

from __future__ import annotations

import asyncpg

from services.pipeline.adapters.outbox_relay import RELAY_NAME
from shared.observability.metrics import OUTBOX_LAG, RUNS

RUN_STATUSES = ("running", "paused", "completed", "failed", "cancelled")


class PipelineProbes:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def runs(self) -> None:
        rows = await self.pool.fetch("SELECT status, count(*) AS n FROM pipeline_runs GROUP BY status")
        counts = {row["status"]: row["n"] for row in rows}
        for status in {*RUN_STATUSES, *counts}:
            RUNS.labels(status).set(counts.get(status, 0))

    async def outbox_lag(self) -> None:
        # notification_id is the store's sequence; the relay's position is the last one published.
        lag = await self.pool.fetchval(
            "SELECT coalesce((SELECT max(notification_id) FROM automation_events), 0)"
            " - coalesce((SELECT position FROM outbox_position WHERE name = $1), 0)",
            RELAY_NAME,
        )
        OUTBOX_LAG.set(max(0, lag))
