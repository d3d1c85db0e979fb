"""How our batch subscribers poll Kafka, in place of FastStream's loop.

FastStream's batch subscriber polls for up to ``batch_timeout_ms`` and, after an empty poll,
sleeps as long again. While records come, that sleep gathers a burst into one batch for at most
``batch_timeout_ms`` of lag; but it wakes an idle consumer many times a second, and a record
arriving during the sleep waits for it. So once no record has come for ``idle_after_s``, the
subscriber polls for up to ``idle_poll_ms`` without the sleep: a poll returns as soon as a record
arrives, whatever its timeout, and the short polls resume. ``idle_after_s=0`` always polls long:
no sleep ever holds a record back. Stopping the subscriber cancels a poll in progress.

Before each poll the offsets handled so far are committed if a commit is due
(offset_commits.py); the long polls' timeout bounds how long the last batches of a burst wait
for theirs. This replaces the subscriber instance's ``get_msg``, which FastStream does not
offer as a hook: pinned by ``faststream<0.8`` and tests/unit/test_batch_polling.py.
"""

from __future__ import annotations

import asyncio
import time
from itertools import chain
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from shared.infra.offset_commits import PacedCommits

IDLE_POLL_MS = 1000


def poll_batches(subscriber: Any, commits: PacedCommits, *, idle_after_s: float,
                 idle_poll_ms: int = IDLE_POLL_MS) -> None:
    last_records = time.monotonic()

    async def get_msg(consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord, ...]:
        nonlocal last_records
        await commits.commit_due(consumer)
        idle = time.monotonic() - last_records >= idle_after_s
        ready = await consumer.getmany(timeout_ms=idle_poll_ms if idle else subscriber.batch_timeout_ms,
                                       max_records=subscriber.max_records)
        if ready:
            last_records = time.monotonic()
            return tuple(chain.from_iterable(ready.values()))
        if not idle:
            await asyncio.sleep(subscriber.batch_timeout_ms / 1000)
        return ()

    subscriber.get_msg = get_msg
