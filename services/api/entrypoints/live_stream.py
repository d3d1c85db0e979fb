"""The Server-Sent Events of one site: run snapshots and log lines, after a position.

Event ids are positions of the site's stream (see services/projector/stream.py). A
chunk of new lines is sent as: a ``run`` snapshot of each run they belong to, carrying
the id the client already has, then each ``log`` line with its own position. A client
cut off anywhere reconnects with the last id it saw and is sent the runs' snapshots
again (current, so never older than what it had) and every line after that id.
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

import asyncpg
from pydantic import BaseModel

from services.api.adapters.queries import stream as q
from services.api.entrypoints.run_schemas import ProcessingState, Run
from services.api.adapters.stream_hub import StreamHub

KEEPALIVE_SECONDS = 15.0
PAGE = 500
BACKLOG_LINES = 200  # a client without Last-Event-ID gets this much of the latest run's log


class StreamRun(Run):
    """The data of a ``run`` event: the run as GET /runs/{id} shows it, and what it is working on."""

    processing: ProcessingState | None


class StreamLine(BaseModel):
    """The data of a ``log`` event: one new line of a run's log."""

    run_id: str
    sequence: int
    line: str


def frame(kind: str, event_id: int, data: BaseModel) -> str:
    return f"id: {event_id}\nevent: {kind}\ndata: {data.model_dump_json()}\n\n"


async def start_position(pool: asyncpg.Pool, site_id: str, last_event_id: int | None) -> int:
    """Where a new connection starts: after the client's last id, or a little before now."""
    head = await q.head(pool, site_id)
    if last_event_id is not None and last_event_id <= head:
        return last_event_id
    # No id, or one from the future (a rebuilt database): recent context instead of a gap.
    run_start = await q.latest_run_start(pool, site_id)
    return max(head - BACKLOG_LINES, run_start if run_start is not None else 0, 0)


async def site_events(pool: asyncpg.Pool, hub: StreamHub, site_id: str,
                      last_event_id: int | None) -> AsyncIterator[str]:
    # Subscribed before the first read: a commit between the two still wakes us.
    async with hub.subscribe(site_id) as wake:
        position = await start_position(pool, site_id, last_event_id)
        yield "retry: 2000\n\n"
        while True:
            wake.clear()
            async for chunk, position in _after(pool, site_id, position):
                yield chunk
            if hub.closing:  # the client reconnects, with its Last-Event-ID, to a server that runs
                return
            try:
                await asyncio.wait_for(wake.wait(), KEEPALIVE_SECONDS)
            except asyncio.TimeoutError:
                yield ": keep-alive\n\n"


async def _after(pool: asyncpg.Pool, site_id: str, position: int) -> AsyncIterator[tuple[str, int]]:
    while True:
        lines = await q.lines_after(pool, site_id, position, PAGE)
        if not lines:
            return
        run_ids = list(dict.fromkeys(line["run_id"] for line in lines))
        for run in await q.snapshots(pool, run_ids):
            yield frame("run", position, StreamRun.model_validate(run)), position
        for line in lines:
            position = line["stream_position"]
            yield frame("log", position, StreamLine(run_id=line["run_id"], sequence=line["sequence"],
                                                    line=line["line"])), position
        if len(lines) < PAGE:
            return
