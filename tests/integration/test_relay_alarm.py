"""The outbox relay raises an alarm when Kafka refuses an event, and keeps the event: it logs
the event id at ERROR, counts the refusals, turns /readyz degraded, and clears it all once
the event is accepted."""

from __future__ import annotations

import asyncio
import json
import logging
from types import SimpleNamespace

import pytest
from aiokafka.errors import MessageSizeTooLargeError

from services.api.entrypoints.routes.health import readyz
from services.pipeline.adapters.outbox_relay import OutboxRelay
from shared.infra import relay_alarms
from tests.integration.test_outbox_relay import _record_run, _wait_for, store_and_pool  # noqa: F401

pytestmark = pytest.mark.integration


async def _readiness(pool) -> tuple[int, dict]:
    answer = await readyz(SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(pool=pool, broker=None))))
    return answer.status_code, json.loads(answer.body)


async def test_a_refused_event_raises_the_alarm_until_kafka_accepts_it(store_and_pool, caplog) -> None:
    url, store, pool = store_and_pool
    published: list[dict] = []
    refusals = {"count": 0, "until_accepted": True}

    async def publish(envelope: dict, key: str):
        ack = asyncio.get_running_loop().create_future()
        if envelope["type"] == "StageStarted" and refusals["until_accepted"]:
            refusals["count"] += 1
            ack.set_exception(MessageSizeTooLargeError())
        else:
            published.append(envelope)
            ack.set_result(None)
        return ack

    run_id = await asyncio.to_thread(_record_run, store)
    relay = OutboxRelay(store, pool, publish, url, retry_refused_after=0.05)
    caplog.set_level(logging.ERROR, logger="services.pipeline.adapters.outbox_relay")
    task = asyncio.create_task(relay.run())
    try:
        await _wait_for(lambda: _occurrences(pool, 2))
        alarm = await relay_alarms.active(pool)
        assert alarm is not None and "MessageSizeTooLarge" in alarm["error"]
        status, body = await _readiness(pool)
        assert status == 200 and body["status"] == "degraded" and body["checks"]["relay"] is False
        assert body["details"]["relay_alarm"]["event_id"] == alarm["event_id"]
        assert [e["type"] for e in published] == ["RunStarted"]  # nothing overtakes the refused event
        assert any(alarm["event_id"] in record.getMessage() for record in caplog.records
                   if record.levelno == logging.ERROR)

        refusals["until_accepted"] = False  # say, the topic's max.message.bytes was raised
        await _wait_for(lambda: _done(published, 2))
        assert [(e["run_id"], e["sequence"]) for e in published] == [(run_id, 1), (run_id, 2)]
        assert published[1]["event_id"] == alarm["event_id"]
        await _wait_for(lambda: _cleared(pool))
        status, body = await _readiness(pool)
        assert status == 200 and body["status"] == "ready" and body["details"]["relay_alarm"] is None
        assert await pool.fetchval("SELECT occurrences FROM relay_alarms") == refusals["count"] >= 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _occurrences(pool, at_least: int) -> bool:
    return (await pool.fetchval("SELECT occurrences FROM relay_alarms WHERE cleared_at IS NULL") or 0) >= at_least


async def _done(published: list, count: int) -> bool:
    return len(published) >= count


async def _cleared(pool) -> bool:
    return await relay_alarms.active(pool) is None
