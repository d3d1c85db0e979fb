"""The projector's Kafka subscriber: turns automation.events into the API's read models."""

from __future__ import annotations

import asyncio
import logging
from itertools import chain
from typing import Any

from faststream import AckPolicy, FastStream
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.projector.entrypoints.handler import handle_events
from shared.infra.dead_letters import DeadLetter, record
from shared.infra.db import create_pool
from shared.infra.settings import Settings
from shared.infra.topics import ensure_topics
from shared.observability.brokers import broker_middlewares
from shared.observability.kafka_lag import ConsumerLagProbe
from shared.observability.sampler import sample_forever
from shared.observability.tracing import span_following

log = logging.getLogger("projector")
# How long a poll waits when no record comes; it returns as soon as one arrives, whatever this is.
LONGEST_POLL_MS = 1000


def create_app(settings: Settings) -> FastStream:
    # Per batch, two things cost more than they give: dependency injection, which would resolve
    # ``msg`` (a context field) in a worker thread, so the handler takes the decoded bodies and
    # reads the message from the broker's context; and FastStream's "Received"/"Processed" lines,
    # which say nothing else (so at DEBUG; its errors keep their level).
    broker = KafkaBroker(settings.kafka_bootstrap_servers, logger=log, log_level=logging.DEBUG,
                         apply_types=False, middlewares=broker_middlewares(settings, "projector"))
    holder: dict[str, Any] = {}

    subscriber = broker.subscriber(
        settings.events_topic,
        group_id=settings.group_id("projector"),
        auto_offset_reset="earliest",
        # Whatever the broker has ready, up to a bound: one transaction per batch, not per event.
        batch=True,
        max_records=500,
        # Committed after the views are written; an error seeks back so nothing is skipped.
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    _poll_without_sleeping(subscriber)

    @subscriber
    async def on_events(bodies: list[Any]) -> None:
        msg: KafkaMessage = broker.context.get_local("message")
        records = msg.raw_message  # the batch's ConsumerRecords, in the order of ``bodies``

        async def set_aside(index: int, reason: str) -> None:
            await record(holder["pool"], DeadLetter.of("projector", records[index], reason))

        with span_following("project events", msg.batch_headers):
            await handle_events(holder["pool"], bodies, set_aside)

    app = FastStream(broker, logger=log)

    @app.on_startup
    async def start() -> None:
        await ensure_topics(settings)
        holder["pool"] = await create_pool(settings.database_url, max_size=4, reset_sessions=False)

    @app.after_startup
    async def start_sampling() -> None:
        if settings.instrumentation:
            holder["lag"] = lag = ConsumerLagProbe(settings.kafka_bootstrap_servers, settings.group_id("projector"),
                                                   settings.events_topic)
            holder["sampler"] = asyncio.create_task(sample_forever([lag], settings.metrics_sample_seconds))

    @app.on_shutdown
    async def stop() -> None:
        if "sampler" in holder:
            holder["sampler"].cancel()
            await asyncio.gather(holder["sampler"], return_exceptions=True)
            await holder["lag"].close()
        if "pool" in holder:
            await holder["pool"].close()

    return app


def _poll_without_sleeping(subscriber: Any) -> None:
    """FastStream's batch subscriber polls for up to ``batch_timeout_ms`` and, after an empty
    poll, sleeps as long again. Short, it wakes an idle projector 50 times a second (at 10 ms,
    most of the projector's CPU between batches); long, an event that arrives during the sleep
    waits for it (the default, 200 ms, was most of the delay between a recorded pause and
    current_run showing it). Polling again at once, for up to ``LONGEST_POLL_MS``, has neither
    cost: a batch is handed over as soon as records arrive, and an idle projector wakes once a
    second. Stopping the subscriber cancels a poll in progress."""
    async def get_msg(consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord, ...]:
        ready = await consumer.getmany(timeout_ms=LONGEST_POLL_MS, max_records=subscriber.max_records)
        return tuple(chain.from_iterable(ready.values()))

    subscriber.get_msg = get_msg
