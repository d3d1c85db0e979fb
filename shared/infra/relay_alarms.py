"""The outbox relay's alarm: raised while Kafka refuses an event, read by the API's ``/readyz``.

The relay keeps retrying the refused event (events are never dropped: a run's sequence has no
gaps), so every tenant's events behind it wait; the alarm is how an operator learns of it.
``occurrences`` counts the refusals since the alarm was raised.
"""

from __future__ import annotations

from typing import Any

import asyncpg


async def raise_alarm(pool: asyncpg.Pool, relay: str, event_id: str, error: str) -> int:
    """Returns how many times the relay has now been refused since the alarm was raised."""
    return int(await pool.fetchval(
        "INSERT INTO relay_alarms (relay, event_id, error) VALUES ($1, $2, $3)"
        " ON CONFLICT (relay) DO UPDATE SET event_id = EXCLUDED.event_id, error = EXCLUDED.error,"
        "   last_at = now(), cleared_at = NULL,"
        "   occurrences = CASE WHEN relay_alarms.cleared_at IS NULL THEN relay_alarms.occurrences + 1 ELSE 1 END,"
        "   raised_at = CASE WHEN relay_alarms.cleared_at IS NULL THEN relay_alarms.raised_at ELSE now() END"
        " RETURNING occurrences",
        relay, event_id, error[:2000],
    ))


async def clear(pool: asyncpg.Pool, relay: str) -> None:
    await pool.execute("UPDATE relay_alarms SET cleared_at = now() WHERE relay = $1 AND cleared_at IS NULL", relay)


async def active(pool: asyncpg.Pool) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        "SELECT relay, event_id, error, occurrences, raised_at, last_at FROM relay_alarms"
        " WHERE cleared_at IS NULL ORDER BY last_at DESC LIMIT 1"
    )
    if row is None:
        return None
    alarm = dict(row)
    for key in ("raised_at", "last_at"):
        alarm[key] = alarm[key].isoformat().replace("+00:00", "Z")
    return alarm
