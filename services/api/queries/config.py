"""Queries of the automation config and the numbers behind an estimate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

_FIELDS = (
    "site_id, is_enabled, frequency, scheduled_time, stage_1_batch_size, stage_2_batch_size,"
    " stage_3_batch_size, stage_4_batch_size, stage_5_batch_size, stage_6_batch_size,"
    " within_stage_delay, between_stage_delay, last_run_at, next_run_at"
)
WRITABLE = frozenset({
    "is_enabled", "frequency", "scheduled_time", "stage_1_batch_size", "stage_2_batch_size",
    "stage_3_batch_size", "stage_4_batch_size", "stage_5_batch_size", "stage_6_batch_size",
    "within_stage_delay", "between_stage_delay",
})


def _out(row: asyncpg.Record) -> dict[str, Any]:
    config = dict(row)
    for key in ("last_run_at", "next_run_at"):
        config[key] = config[key].isoformat().replace("+00:00", "Z") if config[key] else None
    return config


async def config(pool: asyncpg.Pool, site_id: str) -> dict[str, Any]:
    """The site's config, created with the defaults on first read."""
    await pool.execute(
        "INSERT INTO automation_config (site_id) VALUES ($1) ON CONFLICT (site_id) DO NOTHING", site_id
    )
    return _out(await pool.fetchrow(f"SELECT {_FIELDS} FROM automation_config WHERE site_id = $1", site_id))


async def save_config(pool: asyncpg.Pool, site_id: str, changes: dict[str, Any], next_run_at: datetime | None,
                      schedule_changed_at: datetime | None) -> dict[str, Any]:
    """Write the changes; ``schedule_changed_at`` is given when the schedule itself changed."""
    assignments = [f"{column} = ${i}" for i, column in enumerate(changes, start=2) if column in WRITABLE]
    values = [changes[column] for column in changes if column in WRITABLE]
    n = len(values)
    assignments.append(f"next_run_at = ${n + 2}")
    assignments.append(f"schedule_changed_at = COALESCE(${n + 3}, schedule_changed_at)")
    row = await pool.fetchrow(
        f"UPDATE automation_config SET {', '.join(assignments)}, updated_at = now() WHERE site_id = $1"
        f" RETURNING {_FIELDS}",
        site_id, *values, next_run_at, schedule_changed_at,
    )
    return _out(row)


async def schedule_changed_at(pool: asyncpg.Pool, site_id: str) -> datetime | None:
    return await pool.fetchval("SELECT schedule_changed_at FROM automation_config WHERE site_id = $1", site_id)


async def pending_counts(pool: asyncpg.Pool, site_id: str) -> dict[int, int]:
    rows = await pool.fetch("SELECT stage, count(*) AS n FROM pending_items WHERE site_id = $1 GROUP BY stage", site_id)
    return {int(r["stage"]): int(r["n"]) for r in rows}


async def available_credits(pool: asyncpg.Pool, account_id: str) -> int:
    return int(await pool.fetchval("SELECT credits - reserved FROM accounts WHERE id = $1", account_id) or 0)


async def last_slot_taken(pool: asyncpg.Pool, site_id: str) -> datetime | None:
    """The latest scheduled slot the scheduler claimed for the site (see services/scheduler)."""
    return await pool.fetchval("SELECT max(slot_start) FROM schedule_slots WHERE site_id = $1", site_id)
