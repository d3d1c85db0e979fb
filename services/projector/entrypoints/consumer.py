"""The projector's Kafka subscriber: turns automation.events into the API's read models."""

from __future__ import annotations

import asyncio
import logging
import time
from itertools import chain
from typing import Any

from faststream import AckPolicy, FastStream
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.projector.entrypoints.handler import handle_events
from shared.infra.dead_letters import DeadLetter, record
from shared.infra.db import create_pool
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
# After this long without a record the projector counts as idle, and then polls this long at a
# time; a poll returns as soon as a record arrives, whatever its timeout.
IDLE_AFTER_S = 1.0
IDLE_POLL_MS = 1000


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
    _rest_when_idle(subscriber, commits)

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


def _rest_when_idle(subscriber: Any, commits: PacedCommits) -> None:
    """FastStream's batch subscriber polls for up to ``batch_timeout_ms`` and, after an empty
    poll, sleeps as long again. While events come, that sleep gathers a burst into one batch
    (one transaction) for at most ``BATCH_TIMEOUT_MS`` of lag; but it wakes an idle projector 50
    times a second, most of its CPU when idle. So once no record has come for ``IDLE_AFTER_S``,
    it polls for up to ``IDLE_POLL_MS`` without the sleep: that poll returns as soon as a record
    arrives, and the short polls resume. Stopping the subscriber cancels a poll in progress.
    Before each poll, the offsets handled so far are committed if a commit is due; the idle
    polls' timeout bounds how long the last batches of a burst wait for theirs."""
    last_records = time.monotonic()

    async def get_msg(consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord, ...]:
        nonlocal last_records
        await commits.commit_due(consumer)
        idle = time.monotonic() - last_records >= IDLE_AFTER_S
        ready = await consumer.getmany(timeout_ms=IDLE_POLL_MS if idle else subscriber.batch_timeout_ms,
                                       max_records=subscriber.max_records)
        if ready:
            last_records = time.monotonic()
            return tuple(chain.from_iterable(ready.values()))
        if not idle:
            await asyncio.sleep(subscriber.batch_timeout_ms / 1000)
        return ()

    subscriber.get_msg = get_msg
