"""Reading and writing the stacks' topics directly, as the publishing module (or a
redelivering broker) would, on whichever broker the stack uses."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord, RecordMetadata

from tests.support.stack import Stack


def bootstrap(stack: Stack) -> str:
    return stack.env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


def topic(stack: Stack, name: str) -> str:
    return f"{stack.env['KAFKA_TOPIC_PREFIX']}automation.{name}"


def read_topic(stack: Stack, name: str, settle: float = 1.0) -> list[ConsumerRecord]:
    """Every record on the topic so far (until it has been quiet for ``settle`` seconds)."""
    async def read() -> list[ConsumerRecord]:
        consumer = AIOKafkaConsumer(topic(stack, name), bootstrap_servers=bootstrap(stack),
                                    auto_offset_reset="earliest", enable_auto_commit=False, group_id=None)
        await consumer.start()
        try:
            records = []
            while batch := await consumer.getmany(timeout_ms=int(settle * 1000)):
                for messages in batch.values():
                    records.extend(messages)
            return records
        finally:
            await consumer.stop()

    return asyncio.run(read())


def messages_of(stack: Stack, name: str, run_id: str) -> list[tuple[ConsumerRecord, dict[str, Any]]]:
    found = []
    for record in read_topic(stack, name):
        try:
            message = json.loads(record.value)
        except ValueError:
            continue  # another test's garbage
        if isinstance(message, dict) and message.get("run_id") == run_id:
            found.append((record, message))
    return found


def wait_messages(stack: Stack, name: str, run_id: str, until: Callable[[list[dict[str, Any]]], bool],
                  timeout: float = 30.0) -> list[tuple[ConsumerRecord, dict[str, Any]]]:
    deadline = time.monotonic() + timeout
    while True:
        found = messages_of(stack, name, run_id)
        if until([message for _, message in found]):
            return found
        assert time.monotonic() < deadline, f"never seen on {name}: {[m['type'] for _, m in found]}"


def publish(stack: Stack, name: str, records: list[ConsumerRecord]) -> list[RecordMetadata]:
    """Sends these records again, byte for byte: what a redelivery looks like to a consumer."""
    async def send() -> list[RecordMetadata]:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap(stack))
        await producer.start()
        try:
            return [await producer.send_and_wait(topic(stack, name), r.value, key=r.key) for r in records]
        finally:
            await producer.stop()

    return asyncio.run(send())
