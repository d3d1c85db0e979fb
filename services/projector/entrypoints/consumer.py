"""The projector's Kafka subscriber: turns automation.events into the API's read models."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.projector.entrypoints.handler import handle_events
from shared.infra.dead_letters import DeadLetter, record
from shared.infra.db import create_pool
from shared.infra.batch_polling import poll_batches
from shared.infra.offset_commits import PacedCommits
from shared.infra.settings import Settings
from shared.infra.start_up import freeze_start_up_objects
from shared.infra.topics import ensure_topics
from shared.observability.brokers import broker_middlewares
from shared.observability.kafka_lag import ConsumerLagProbe
from shared.observability.sampler import sample_forever
from shared.observability.tracing import span_following

log = logging.getLogger("projector")
BATCH_TIMEOUT_MS = 10
# After this long without a record the projector counts as idle and polls long (batch_polling.py).
IDLE_AFTER_S = 1.0


def create_app(settings: Settings) -> FastStream:
    # Per batch, two things cost more than they give: dependency injection, which would resolve
    # ``msg`` (a context field) in a worker thread, so the handler takes the decoded bodies and
    # reads the message from the broker's context; and FastStream's "Received"/"Processed" lines,
    # which say nothing else (so at DEBUG; its errors keep their level).
    broker = KafkaBroker(settings.kafka_bootstrap_servers, logger=log, log_level=logging.DEBUG,
                         apply_types=False, middlewares=broker_middlewares(settings, "projector"))
    holder: dict[str, Any] = {}
    commits = PacedCommits()

    subscriber = broker.subscriber(
        settings.events_topic,
        group_id=settings.group_id("projector"),
        auto_offset_reset="earliest",
        # Whatever the broker has ready, up to a bound: one transaction per batch, not per event.
        batch=True,
        max_records=500,
        # FastStream sleeps this long again after an empty poll, so it bounds how long an event
        # that arrives at a busy projector waits (its default, 200 ms, was most of the delay
        # between a recorded pause and current_run showing it). A poll returns as soon as
        # records arrive, whatever this is.
        batch_timeout_ms=BATCH_TIMEOUT_MS,
        # Offsets are noted once the views are written and committed at a pace (offset_commits.py);
        # an error seeks back so nothing is skipped.
        ack_policy=AckPolicy.MANUAL,
        listener=commits,
    )
    poll_batches(subscriber, commits, idle_after_s=IDLE_AFTER_S)

    @subscriber
    async def on_events(bodies: list[Any]) -> None:
        msg: KafkaMessage = broker.context.get_local("message")
        records = msg.raw_message  # the batch's ConsumerRecords, in the order of ``bodies``

        async def set_aside(index: int, reason: str) -> None:
            await record(holder["pool"], DeadLetter.of("projector", records[index], reason))

        async with commits.handling(msg):
            with span_following("project events", msg.batch_headers):
                await handle_events(holder["pool"], bodies, set_aside)

    app = FastStream(broker, logger=log)

    @app.on_startup
    async def start() -> None:
        await ensure_topics(settings)
        holder["pool"] = await create_pool(settings.database_url, max_size=4, reset_sessions=False)

    @app.after_startup
    async def start_sampling() -> None:
        freeze_start_up_objects()
        if settings.instrumentation:
            holder["lag"] = lag = ConsumerLagProbe(settings.kafka_bootstrap_servers, settings.group_id("projector"),
                                                   settings.events_topic)
            holder["sampler"] = asyncio.create_task(sample_forever([lag], settings.metrics_sample_seconds))

    @app.on_shutdown
    async def stop() -> None:
        await commits.flush()
        if "sampler" in holder:
            holder["sampler"].cancel()
            await asyncio.gather(holder["sampler"], return_exceptions=True)
            await holder["lag"].close()
        if "pool" in holder:
            await holder["pool"].close()

    return app
