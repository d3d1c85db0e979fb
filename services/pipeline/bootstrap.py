"""The pipeline's composition root: builds the real dependencies from settings."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from services.pipeline.adapters.account_slots import PgAccountSlots
from services.pipeline.adapters.ai import build_ai_provider, limit_rate
from services.pipeline.adapters.ai.instrumented import InstrumentedAI
from services.pipeline.adapters.event_store import RunStore
from services.pipeline.adapters.planner_sql import PgPlanner
from services.pipeline.application.ai_port import AIProvider
from services.pipeline.application.commands import CommandHandlers
from services.pipeline.application.service import PipelineService
from services.pipeline.application.supervisor import Supervisor
from services.pipeline.application.worker import RunWorker
from shared.infra.db import create_pool
from shared.infra.settings import Settings


@dataclass
class PipelineParts:
    settings: Settings
    store: RunStore
    pool: asyncpg.Pool
    ai: AIProvider
    service: PipelineService
    supervisor: Supervisor


async def build(settings: Settings, ai: AIProvider | None = None) -> PipelineParts:
    store = RunStore.from_settings(settings)
    pool = await create_pool(settings.database_url, max_size=4)
    ai = ai or limit_rate(build_ai_provider(settings), settings, pool)
    if settings.instrumentation:
        ai = InstrumentedAI(ai)
    handlers = CommandHandlers(store, PgPlanner(store))
    worker = RunWorker(store, handlers, ai, PgAccountSlots(store), settings.ai_max_in_flight)
    supervisor = Supervisor(worker.execute, worker.fail)
    return PipelineParts(settings, store, pool, ai, PipelineService(handlers, supervisor), supervisor)
