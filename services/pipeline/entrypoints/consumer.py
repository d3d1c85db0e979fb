"""The pipeline process: consumes commands, carries runs, relays events."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from aiokafka import AIOKafkaProducer, ConsumerRebalanceListener, ConsumerRecord
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError
from pydantic import ValidationError

from services.pipeline.adapters.audit_checkpoints import CheckpointWriter
from services.pipeline.adapters.metrics_probes import PipelineProbes
from services.pipeline.adapters.outbox_relay import RECORD_BATCH_BYTES, OutboxRelay
from services.pipeline.adapters.partitioner import KeyHashCachingPartitioner
from services.pipeline.adapters.partitions import partition_of
from services.pipeline.application.service import PipelineService
from services.pipeline.bootstrap import PipelineParts, build
from services.pipeline.entrypoints.command_lanes import in_site_lanes
from shared.events.commands import Command, parse_command
from shared.infra.dead_letters import DeadLetter, describe, record
from shared.infra.batch_polling import IDLE_POLL_MS, poll_batches
from shared.infra.offset_commits import PacedCommits
from shared.infra.settings import Settings
from shared.infra.start_up import freeze_start_up_objects
from shared.infra.topics import ensure_topics
from shared.observability.brokers import broker_middlewares
from shared.observability.kafka_lag import ConsumerLagProbe
from shared.observability.logs import rebind
from shared.observability.metrics import COMMANDS_HANDLED, DEAD_LETTERS
from shared.observability.sampler import sample_forever
from shared.observability.tracing import span_following

log = logging.getLogger("pipeline")
COMMANDS_PER_BATCH = 100


class RunPartitionListener(ConsumerRebalanceListener):
    """Runs follow their site's partition: adopted when it is assigned, let go when revoked."""

    def __init__(self, holder: dict[str, Any], topic: str) -> None:
        self.holder = holder
        self.topic = topic
        self.owned: set[int] = set()

    async def on_partitions_revoked(self, revoked: Any) -> None:
        lost = {tp.partition for tp in revoked if tp.topic == self.topic}
        self.owned -= lost
        parts: PipelineParts | None = self.holder.get("parts")
        if parts and lost:
            await parts.service.release(await self._runs_in(parts, lost, parts.supervisor.carrying()))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        gained = {tp.partition for tp in assigned if tp.topic == self.topic}
        self.owned |= gained
        parts: PipelineParts | None = self.holder.get("parts")
        if parts and gained:
            rows = await parts.pool.fetch("SELECT run_id FROM pipeline_runs WHERE status = 'running'")
            await parts.service.adopt(await self._runs_in(parts, gained, {r["run_id"] for r in rows}))

    async def _runs_in(self, parts: PipelineParts, partitions: set[int], run_ids: set[str]) -> list[str]:
        if not run_ids:
            return []
        rows = await parts.pool.fetch(
            "SELECT run_id, site_id FROM pipeline_runs WHERE run_id = ANY($1::text[])", list(run_ids)
        )
        count = self.holder["partitions"]
        return [r["run_id"] for r in rows if partition_of(r["site_id"], count) in partitions]


async def _partition_count(settings: Settings) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        return len(await producer.partitions_for(settings.commands_topic))
    finally:
        await producer.stop()


async def _keep_relaying(relay: OutboxRelay) -> None:
    """A relay that fails (say PostgreSQL refused a connection) starts again instead of
    leaving every later event unpublished."""
    while True:
        try:
            await relay.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("outbox relay failed; starting it again in 1 s")
            await asyncio.sleep(1.0)


@dataclass(frozen=True)
class _Received:
    record: ConsumerRecord
    body: Any  # as FastStream decoded it: a dict, or the raw bytes when they were not JSON
    headers: dict[str, Any]

    @property
    def partition(self) -> int:
        return self.record.partition

    @property
    def key(self) -> bytes | None:
        return self.record.key  # the site


def create_app(settings: Settings) -> FastStream:
    # Without dependency injection, which would resolve ``msg`` (a context field) in a worker
    # thread: the handler takes the decoded bodies and reads the message from the context.
    broker = KafkaBroker(settings.kafka_bootstrap_servers, enable_idempotence=True, logger=log,
                         partitioner=KeyHashCachingPartitioner(),  # the relay's events: one hash a site
                         max_batch_size=RECORD_BATCH_BYTES,
                         apply_types=False, middlewares=broker_middlewares(settings, "pipeline"))
    holder: dict[str, Any] = {}
    tasks: list[asyncio.Task[None]] = []
    commits = PacedCommits(then=RunPartitionListener(holder, settings.commands_topic))

    subscriber = broker.subscriber(
        settings.commands_topic,
        group_id=settings.group_id("pipeline"),
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=max(1000, settings.kafka_session_timeout_ms // 4),
        # Whatever has arrived, so that different sites' commands are decided side by side
        # (command_lanes.py) rather than each admission after all those before it.
        batch=True,
        max_records=COMMANDS_PER_BATCH,
        batch_timeout_ms=IDLE_POLL_MS,
        # Noted only once every command of the batch was decided, and committed at a pace
        # (offset_commits.py); a failure seeks each partition back to its first record of the
        # batch: what wasn't decided comes again, and what was comes back as a duplicate.
        ack_policy=AckPolicy.MANUAL,
        listener=commits,
    )
    # Always the long poll: a command arriving is never held back by FastStream's sleep, and an
    # idle pipeline wakes once a second.
    poll_batches(subscriber, commits, idle_after_s=0.0)

    @subscriber
    async def on_commands(bodies: list[Any]) -> None:
        msg: KafkaMessage = broker.context.get_local("message")
        received = [_Received(record, body, headers)
                    for record, body, headers in zip(msg.raw_message, bodies, msg.batch_headers)]
        async with commits.handling(msg):
            await in_site_lanes(received, on_command)

    async def on_command(received: _Received) -> None:
        async def set_aside(reason: str) -> None:
            # Recorded before the offset is committed: if the write fails, the command comes back.
            await record(holder["parts"].pool, DeadLetter.of("pipeline", received.record, reason))

        try:
            command = parse_command(received.body)
        except (ValidationError, ValueError, TypeError) as error:
            # A malformed command can never succeed: retrying it would block its partition.
            reason = f"malformed command: {describe(error)}"  # one line, whatever the size of the record
            log.error("set aside the command at offset %s: %s", received.record.offset, reason)
            await set_aside(reason)
            COMMANDS_HANDLED.labels("unknown", "malformed").inc()
            DEAD_LETTERS.labels("commands", "malformed").inc()
            return
        # Run tasks started by this command inherit these (and its trace), so their log lines
        # and spans carry them too.
        rebind(run_id=command.run_id, site_id=command.site_id, account_id=command.account_id)
        with span_following(f"decide {command.type}", [received.headers]):
            await decide(command, set_aside)

    async def decide(command: Command, set_aside: Callable[[str], Awaitable[None]]) -> None:
        service: PipelineService = holder["parts"].service
        try:
            decision = await service.dispatch(command)
        except (InterfaceError, OperationalError, IntegrityError):
            raise  # the database is away or contended: redelivered, decided later
        except Exception:
            # Anything else would fail again on every redelivery and block the partition:
            # the command is refused, for its sender to see, and the partition moves on.
            log.exception("refused %s %s after an unexpected error", command.type, command.command_id)
            await service.refuse(command, "internal_error")
            COMMANDS_HANDLED.labels(command.type, "internal_error").inc()
            await set_aside("internal_error while deciding the command")
            return
        COMMANDS_HANDLED.labels(command.type, str(decision.outcome)).inc()
        if decision.set_aside:
            log.error("set aside %s %s: %s", command.type, command.command_id, decision.message)
            DEAD_LETTERS.labels("commands", str(decision.error_code)).inc()
            await set_aside(f"{decision.error_code}: {decision.message}")
        log.info("%s %s for run %s: %s %s", command.type, command.command_id,
                 command.run_id, decision.outcome, decision.error_code or "")

    async def publish(envelope: dict[str, Any], key: str) -> Any:
        return await broker.publish(envelope, settings.events_topic, key=key.encode(), no_confirm=True)

    app = FastStream(broker, logger=log)

    @app.on_startup
    async def start() -> None:
        await ensure_topics(settings)
        holder["partitions"] = await _partition_count(settings)
        holder["parts"] = parts = await build(settings)
        relay = OutboxRelay(parts.store, parts.pool, publish, settings.database_url,
                            CheckpointWriter.from_settings(settings))
        holder["relay"] = relay

    @app.after_startup
    async def start_relay() -> None:
        freeze_start_up_objects()
        tasks.append(asyncio.create_task(_keep_relaying(holder["relay"]), name="outbox-relay"))
        if settings.instrumentation:
            probes = PipelineProbes(holder["parts"].pool)
            holder["lag"] = lag = ConsumerLagProbe(settings.kafka_bootstrap_servers, settings.group_id("pipeline"),
                                                   settings.commands_topic)
            tasks.append(asyncio.create_task(
                sample_forever([probes.runs, probes.outbox_lag, lag], settings.metrics_sample_seconds),
                name="metrics-sampler"))

    @app.on_shutdown
    async def stop() -> None:
        await commits.flush()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if "lag" in holder:
            await holder["lag"].close()
        parts: PipelineParts | None = holder.get("parts")
        if parts:
            await parts.supervisor.abort_all()
            await parts.ai.aclose()
            await parts.pool.close()
            parts.store.close()

    return app
