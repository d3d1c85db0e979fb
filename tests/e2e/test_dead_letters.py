"""Garbage on either topic is set aside where an operator can see it, and blocks nothing.

Through real processes and Kafka: invalid bytes, wrong types and a 900 KB record on both
topics, and a PauseRun naming another account's run, each show up in `automation
dead-letters` and in `/readyz` details, while a run of another site on the same partition
of the commands topic completes meanwhile.
"""

from __future__ import annotations

import asyncio
import json

import subprocess
import sys
import time
import uuid
from typing import Iterator

import psycopg
import pytest
from aiokafka import AIOKafkaProducer

from services.pipeline.adapters.partitions import partition_of
from tests.support.client import Api
from tests.support.keywords import keyword_set
from tests.support.stack import ROOT, Stack

pytestmark = pytest.mark.e2e
FAST = {"within_stage_delay": 0, "between_stage_delay": 0}
GARBAGE = {
    "invalid bytes": b"\xff\xfe not json \x00",
    "wrong types": json.dumps({"type": "StartRun", "site_id": 7, "account_id": [], "run_id": "x"}).encode(),
    "900 KB": b'{"type": "' + b"A" * (900 * 1024) + b'"}',
}


@pytest.fixture(scope="module")
def private_stack() -> Iterator[Stack]:
    with Stack("deadletters") as running:
        yield running


def _key_on_partition_of(site_id: str, partitions: int = 3) -> bytes:
    """Another site's key that lands on the same partition as ``site_id``."""
    while True:
        other = str(uuid.uuid4())
        if partition_of(other, partitions) == partition_of(site_id, partitions):
            return other.encode()


async def _send(bootstrap: str, records: list[tuple[str, bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=2 * 1024 * 1024)
    await producer.start()
    try:
        for topic, key, value in records:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def _partitions(bootstrap: str, topic: str) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        return len(await producer.partitions_for(topic))
    finally:
        await producer.stop()


def _dead_letters_cli(stack: Stack) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.cli", "dead-letters"], cwd=ROOT,
                          env={**stack.env, "COLUMNS": "250"}, capture_output=True, text=True, timeout=60)


def _wait_for_rows(stack: Stack, count: int, timeout: float = 30.0) -> list[tuple]:
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
            rows = conn.execute('SELECT consumer, topic, value_size, reason, "offset", key FROM dead_letters'
                                " ORDER BY id").fetchall()
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def test_garbage_on_both_topics_is_listed_and_blocks_no_other_site(private_stack: Stack) -> None:
    api = Api(private_stack.base_url)
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=2))
    api.configure(tenant, **FAST)
    prefix = private_stack.env["KAFKA_TOPIC_PREFIX"]
    bootstrap = private_stack.env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    commands, events = f"{prefix}automation.commands", f"{prefix}automation.events"
    key = _key_on_partition_of(tenant.site_id, asyncio.run(_partitions(bootstrap, commands)))
    garbage = [(topic, key, value) for topic in (commands, events) for value in GARBAGE.values()]
    orphan = {"event_id": str(uuid.uuid4()), "type": "StageStarted", "run_id": str(uuid.uuid4()),
              "site_id": key.decode(), "account_id": tenant.account_id, "sequence": 1,
              "occurred_at": "2026-01-01T00:00:00Z", "schema_version": 1, "hash": "h", "prev_hash": "",
              "data": {"stage": 1, "name": "keywords_to_clusters", "items_total": 1}}
    garbage.append((events, key, json.dumps(orphan).encode()))  # valid, but its run never started

    asyncio.run(_send(bootstrap, garbage))
    answer = api.run_now(tenant)
    assert answer.status_code == 202, answer.text
    api.wait_status(tenant, answer.json()["run_id"], "completed", timeout=90)

    rows = _wait_for_rows(private_stack, len(garbage))
    assert sorted((consumer, topic) for consumer, topic, *_ in rows) == sorted(
        [("pipeline", commands)] * 3 + [("projector", events)] * 4)
    assert {size for _, _, size, *_ in rows} >= {len(value) for value in GARBAGE.values()}
    reasons = [reason for _, _, _, reason, *_ in rows]
    assert sum(reason.startswith("malformed ") for reason in reasons) == 6
    assert any(reason.startswith(f"cannot be applied to run {orphan['run_id']}") for reason in reasons)
    assert all(row[5] == key for row in rows)

    ready = api.http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["details"]["dead_letters"] == len(garbage)

    listed = _dead_letters_cli(private_stack)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("malformed command") == 3 and listed.stdout.count("malformed event") == 3
    assert "cannot be applied" in listed.stdout
    assert key.decode() in listed.stdout


def test_a_command_naming_another_accounts_run_is_refused_and_set_aside(private_stack: Stack) -> None:
    api = Api(private_stack.base_url)
    victim, intruder = api.tenant(), api.tenant()
    api.import_keywords(victim, keyword_set(topics=2))
    api.configure(victim, **FAST)
    run_id = api.run_now(victim).json()["run_id"]
    command_id = str(uuid.uuid4())
    pause = {"type": "PauseRun", "command_id": command_id, "site_id": victim.site_id,
             "account_id": intruder.account_id, "run_id": run_id, "schema_version": 1}
    prefix = private_stack.env["KAFKA_TOPIC_PREFIX"]
    bootstrap = private_stack.env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    asyncio.run(_send(bootstrap, [(f"{prefix}automation.commands", victim.site_id.encode(),
                                   json.dumps(pause).encode())]))

    run = api.wait_status(victim, run_id, "completed", timeout=120)
    assert run["paused_at"] is None
    with psycopg.connect(private_stack.env["DATABASE_URL"]) as conn:
        outcome = conn.execute("SELECT outcome, error_code FROM command_log WHERE command_id = %s",
                               (command_id,)).fetchone()
        letter = conn.execute("SELECT consumer, reason FROM dead_letters WHERE reason LIKE %s",
                              (f"%{run_id}%",)).fetchone()
    assert outcome == ("rejected", "account_mismatch")
    assert letter is not None and letter[0] == "pipeline" and letter[1].startswith("account_mismatch")
    listed = _dead_letters_cli(private_stack)
    assert "account_mismatch" in listed.stdout


