"""Sends commands to the pipeline and, where the caller needs it, waits for the decision.

The pipeline writes each decision to ``command_log`` and notifies the
``command_outcome`` channel in the same transaction; the bus listens on that
channel and re-reads the table, so a missed notification only costs a poll.
How a command reaches the pipeline is a ``SendCommand``: Kafka's commands topic here
(``kafka_sender``); the embedded demo hands it straight to the pipeline in its process.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

import asyncpg
from faststream.kafka import KafkaBroker

from services.api.application.ports import DecisionTimeout
from shared.events.commands import Command, Outcome
from shared.infra.channels import COMMAND_OUTCOME

POLL_SECONDS = 0.25
SendCommand = Callable[[Command], Awaitable[Any]]


def kafka_sender(broker: KafkaBroker, topic: str) -> SendCommand:
    async def send(command: Command) -> None:
        await broker.publish(command.model_dump(mode="json"), topic, key=command.site_id.encode())

    return send


class CommandBus:
    def __init__(self, send: SendCommand, pool: asyncpg.Pool, database_url: str,
                 decision_timeout: float = 20.0) -> None:
        self._send = send
        self.decision_timeout = decision_timeout
        self.pool = pool
        self.database_url = database_url
        self._waiters: dict[str, asyncio.Event] = {}
        self._listener: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._listener = await asyncpg.connect(self.database_url)
        await self._listener.add_listener(COMMAND_OUTCOME, self._notified)

    async def stop(self) -> None:
        if self._listener is not None:
            await self._listener.close()

    def _notified(self, _conn: Any, _pid: int, _channel: str, command_id: str) -> None:
        waiter = self._waiters.get(command_id)
        if waiter is not None:
            waiter.set()

    async def send(self, command: Command) -> None:
        await self._send(command)

    async def decision(self, command_id: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow(
            "SELECT outcome, error_code, details FROM command_log WHERE command_id = $1", command_id
        )

    async def withdraw(self, command: Command) -> bool:
        """Take back a command nobody decided yet: the pipeline, finding its row in
        command_log, will skip it. False when it was decided meanwhile."""
        withdrawn = await self.pool.fetchval(
            "INSERT INTO command_log (command_id, type, site_id, run_id, outcome, error_code)"
            " VALUES ($1, $2, $3, $4, $5, 'pipeline_unavailable')"
            " ON CONFLICT (command_id) DO NOTHING RETURNING true",
            command.command_id, command.type, command.site_id, command.run_id, str(Outcome.WITHDRAWN),
        )
        return bool(withdrawn)

    async def decide(self, command: Command) -> asyncpg.Record:
        """Send and wait for the pipeline's decision (its command_log row)."""
        timeout = self.decision_timeout
        waiter = self._waiters[command.command_id] = asyncio.Event()
        try:
            await self.send(command)
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                row = await self.decision(command.command_id)
                if row is not None:
                    return row
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    raise DecisionTimeout(command.command_id)
                try:
                    await asyncio.wait_for(waiter.wait(), timeout=min(POLL_SECONDS, left))
                except asyncio.TimeoutError:
                    pass
        finally:
            self._waiters.pop(command.command_id, None)
