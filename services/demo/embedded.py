"""The embedded default's composition root: the real use cases on one SQLite file, in one process.

Same CommandHandlers, RunWorker, Supervisor and PipelineService as ``services.pipeline``;
only the adapters differ: ``RunStore.embedded`` with ``planner_sqlite`` for PostgreSQL,
``dispatch`` for the commands topic, ``InProcessRelay`` for outbox relay + events topic +
projector.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from services.demo.relay import InProcessRelay
from services.pipeline.adapters import planner_sqlite
from services.pipeline.adapters.ai.offline import OfflineAI
from services.pipeline.adapters.event_store import RunStore
from services.pipeline.application.ai_port import AIProvider
from services.pipeline.application.commands import CommandHandlers, Decision
from services.pipeline.application.service import PipelineService
from services.pipeline.application.supervisor import Supervisor
from services.pipeline.application.worker import RunWorker
from shared.events.commands import Command
from shared.infra.settings import get_settings


def schema_sql() -> str:
    return resources.files("shared.infra").joinpath("schema_sqlite.sql").read_text()


def apply_schema(db_path: Path) -> None:
    # A connection of its own: executescript commits as it goes, which the store's pool must not see.
    conn = sqlite3.connect(db_path)
    try:
        conn.executescript(schema_sql())
    finally:
        conn.close()


@dataclass
class Embedded:
    store: RunStore
    service: PipelineService
    supervisor: Supervisor
    relay: InProcessRelay
    ai: AIProvider
    db_path: Path

    @classmethod
    def open(cls, db_path: Path, ai: AIProvider | None = None) -> "Embedded":
        apply_schema(db_path)
        store = RunStore.embedded(str(db_path))
        ai = ai or OfflineAI(latency_ms=get_settings().offline_ai_latency_ms)
        handlers = CommandHandlers(store, sql=planner_sqlite)
        worker = RunWorker(store, handlers, ai)
        supervisor = Supervisor(worker.execute, worker.fail)
        return cls(store, PipelineService(handlers, supervisor), supervisor, InProcessRelay(store), ai, db_path)

    async def send(self, command: Command) -> Decision:
        """The in-process command bus: straight to the pipeline service, decision back."""
        return await self.service.dispatch(command)

    async def close(self) -> None:
        await self.supervisor.abort_all()
        await self.ai.aclose()
        await asyncio.to_thread(self.store.close)
