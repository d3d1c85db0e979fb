"""The API's composition root."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from services.api.entrypoints.body_limit import BodyLimit
from services.api.adapters.command_bus import CommandBus, SendCommand, kafka_sender
from services.api.entrypoints.errors import install_error_handlers
from services.api.entrypoints.http_metrics import HttpMetrics
from services.api.entrypoints.openapi import install_openapi
from services.api.entrypoints.routes import admin, config, content, dashboard, health, messages, metrics, planner, runs, sites, stream
from services.api.entrypoints.schemas import errors
from services.api.adapters.stream_hub import StreamHub
from shared.infra.db import create_pool
from shared.infra.settings import Settings
from shared.infra.start_up import freeze_start_up_objects
from shared.infra.topics import ensure_topics
from shared.observability.brokers import broker_middlewares
from shared.observability.tracing import tracer_provider

POOL_SIZE = 10

def create_app(settings: Settings, send_command: SendCommand | None = None) -> FastAPI:
    """``send_command`` replaces Kafka's commands topic (the embedded demo's in-process bus);
    without Kafka, readiness asks PostgreSQL only."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # No session state is left on a pooled connection (the LISTENs have their own, advisory
        # locks are transaction-scoped): skip the reset query on every release.
        # Every connection opened at start and kept (asyncpg keeps min_size open when idle): a
        # burst of requests never queues behind new backends (fork, authentication, codecs).
        app.state.pool = await create_pool(settings.database_url, min_size=POOL_SIZE, max_size=POOL_SIZE,
                                           reset_sessions=False)
        app.state.broker = broker = None if send_command else KafkaBroker(
            settings.kafka_bootstrap_servers, middlewares=broker_middlewares(settings, "api"))
        if broker is not None:
            await ensure_topics(settings)
            await broker.start()
        send = send_command or kafka_sender(broker, settings.commands_topic)
        app.state.bus = bus = CommandBus(send, app.state.pool, settings.database_url,
                                         settings.admission_timeout_seconds)
        await bus.start()
        hub = app.state.stream_hub
        await hub.start()
        freeze_start_up_objects()
        try:
            yield
        finally:
            await hub.stop()
            await bus.stop()
            if broker is not None:
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
    app.state.stream_hub = StreamHub(settings.database_url)  # connects only once started
    install_error_handlers(app)
    for module in (health, metrics, messages, admin, config, planner, content, runs, stream, sites, dashboard):
        app.include_router(module.router)
    install_openapi(app)
    # Added last, so it runs first: an oversized body is refused before parsing or auth.
    app.add_middleware(BodyLimit)
    if settings.instrumentation:
        app.add_middleware(HttpMetrics)  # outermost: a refused body is counted too
        provider = tracer_provider()
        if provider is not None:
            from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

            FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="healthz,readyz,metrics")
    return app
