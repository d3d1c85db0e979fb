"""The API's composition root."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from services.api.body_limit import BodyLimit
from services.api.command_bus import CommandBus
from services.api.errors import install_error_handlers
from services.api.openapi import install_openapi
from services.api.routes import admin, config, health, messages, planner, runs
from services.api.schemas import errors
from shared.infra.db import apply_schema, create_pool
from shared.infra.settings import Settings
from shared.infra.topics import ensure_topics


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await apply_schema(settings.database_url)
        await ensure_topics(settings)
        app.state.pool = await create_pool(settings.database_url)
        app.state.broker = broker = KafkaBroker(settings.kafka_bootstrap_servers)
        await broker.start()
        app.state.bus = bus = CommandBus(broker, app.state.pool, settings.commands_topic, settings.database_url,
                                         settings.admission_timeout_seconds)
        await bus.start()
        try:
            yield
        finally:
            await bus.stop()
            await broker.stop()
            await app.state.pool.close()

    app = FastAPI(
        title="Automation pipeline API",
        version="1.0.0",
        description="Configure, run, watch and audit the seven-stage content pipeline of each site.",
        lifespan=lifespan,
        responses=errors(500),
    )
    app.state.settings = settings
    install_error_handlers(app)
    for module in (health, messages, admin, config, planner, runs):
        app.include_router(module.router)
    install_openapi(app)
    # Added last, so it runs first: an oversized body is refused before parsing or auth.
    app.add_middleware(BodyLimit)
    return app
