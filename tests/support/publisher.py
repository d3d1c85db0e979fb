"""The example publisher (examples/publisher) as a real process, and its consumer group's offsets."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from tests.support.client import Tenant
from tests.support.stack import LOG_DIR, ROOT, SESSION, Stack

BOOTSTRAP = "127.0.0.1:9092"


class Publisher:
    """One publisher process at a time, restartable, over one output folder and group."""

    def __init__(self, stack: Stack, tenant: Tenant, output: Path) -> None:
        self.output = output
        self.group = f"test-publisher-{uuid.uuid4().hex[:8]}"
        self.topic = stack.env["KAFKA_TOPIC_PREFIX"] + "automation.events"
        self.env = {
            **stack.env, "PUBLISHER_API_URL": stack.base_url, "PUBLISHER_API_TOKEN": tenant.token,
            "PUBLISHER_ACCOUNT_ID": tenant.account_id, "PUBLISHER_OUTPUT_DIR": str(output),
            "PUBLISHER_GROUP_ID": self.group, "PUBLISHER_EVENTS_TOPIC": self.topic,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        log = open(LOG_DIR / f"{SESSION}-{self.group}-{self.starts}.log", "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "examples.publisher"], cwd=ROOT, env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
            self.proc = None

    def ledger(self) -> list[dict]:
        path = self.output / "published.jsonl"
        if not path.exists():
            return []
        # Only whole lines: the process may be writing the next one.
        return [json.loads(line) for line in path.read_text().split("\n")[:-1]]

    def wait_published(self, content_ids: set[str], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while {e["content_id"] for e in self.ledger()} < content_ids:
            self._check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"published {len(self.ledger())} of {len(content_ids)}")
            time.sleep(0.05)

    def wait_caught_up(self, timeout: float = 60.0) -> None:
        """Until the group's committed offsets reach the end of every partition of the topic."""
        deadline = time.monotonic() + timeout
        while (lag := asyncio.run(group_lag(self.group, self.topic))) != 0:
            self._check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"publisher group still {lag} events behind")
            time.sleep(0.2)

    def _check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"publisher exited with {self.proc.returncode}: see {LOG_DIR}")


async def _partitions(topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        (description,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [TopicPartition(topic, p["partition"]) for p in description["partitions"]]


async def _end_offsets(topic: str) -> dict[TopicPartition, tuple[int, int]]:
    """Each partition's (first, next) offset."""
    partitions = await _partitions(topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False)
    await consumer.start()
    try:
        starts = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        return {tp: (starts[tp], ends[tp]) for tp in partitions}
    finally:
        await consumer.stop()


async def group_lag(group: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    ends = await _end_offsets(topic)
    return sum(end - (committed[tp].offset if tp in committed else start) for tp, (start, end) in ends.items())


def reset_to_beginning(group: str, topic: str, timeout: float = 30.0) -> None:
    """What ``kafka-consumer-groups --reset-offsets --to-earliest`` does, for a group with no members."""
    async def reset() -> None:
        offsets = await _end_offsets(topic)
        consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign(list(offsets))
            await consumer.commit({tp: OffsetAndMetadata(start, "") for tp, (start, _) in offsets.items()})
        finally:
            await consumer.stop()

    deadline = time.monotonic() + timeout
    while True:
        try:
            return asyncio.run(reset())
        except KafkaError:
            # The stopped member may not have left the group yet.
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
