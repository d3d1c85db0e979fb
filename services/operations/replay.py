"""``automation replay``: rebuilds the read models from the event store, the source of truth.

The rebuild runs in one transaction, so readers see the old models until the new
ones are complete, and a projector running meanwhile waits, then skips what the
replay already applied.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Iterator

from services.operations.run_events import count_run_events, envelopes
from services.pipeline.adapters.event_store import RunStore
from services.projector.writer import project
from shared.infra.db import create_pool
from shared.infra.settings import Settings

READ_MODELS = ("run_view", "run_events", "run_log_lines")
Progress = Callable[[int], None]


async def replay(settings: Settings, store: RunStore, on_total: Progress, on_event: Progress) -> int:
    on_total(await asyncio.to_thread(count_run_events, store))
    source: Iterator[dict[str, Any]] = await asyncio.to_thread(lambda: iter(envelopes(store)))
    pool = await create_pool(settings.database_url, max_size=1)
    applied = 0
    try:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(f"LOCK TABLE {', '.join(READ_MODELS)} IN EXCLUSIVE MODE")
            for table in READ_MODELS:  # DELETE, not TRUNCATE: readers keep the old rows until commit
                await conn.execute(f"DELETE FROM {table}")
            while batch := await asyncio.to_thread(_take, source, 2000):
                await project(conn, batch)
                applied += len(batch)
                on_event(len(batch))
    finally:
        await pool.close()
    return applied


def _take(source: Iterator[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    batch = []
    for event in source:
        batch.append(event)
        if len(batch) == n:
            break
    return batch
