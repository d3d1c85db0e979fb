"""One LISTEN connection per API process, fanned out to every open stream.

The projector notifies ``automation_stream`` with the site's id when it commits new
read-model rows. A notification only says "look again": each stream reads what is new
from the database after its own position, so a notification lost while the connection
was down costs a delay (streams also look again at every keep-alive), never an event.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import asyncpg

from shared.infra.channels import STREAM as CHANNEL

log = logging.getLogger("api.stream")
RECONNECT_SECONDS = 1.0


class StreamHub:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._subscribers: dict[str, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closing = False

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._listen_forever(), name="stream-hub")

    def close_streams(self) -> None:
        """Ask every open stream to end (the server is stopping). Safe from a signal handler."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._close_streams)

    def _close_streams(self) -> None:
        self.closing = True
        self._wake_everyone()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    @asynccontextmanager
    async def subscribe(self, site_id: str) -> AsyncIterator[asyncio.Event]:
        """An event set whenever the site may have something new; the reader clears it."""
        wake = asyncio.Event()
        self._subscribers.setdefault(site_id, set()).add(wake)
        try:
            yield wake
        finally:
            waiting = self._subscribers.get(site_id, set())
            waiting.discard(wake)
            if not waiting:
                self._subscribers.pop(site_id, None)

    def _notified(self, _conn: Any, _pid: int, _channel: str, site_id: str) -> None:
        for wake in self._subscribers.get(site_id, ()):
            wake.set()

    def _wake_everyone(self) -> None:
        for waiting in self._subscribers.values():
            for wake in waiting:
                wake.set()

    async def _listen_forever(self) -> None:
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(self.database_url)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn: lost.set())
                await conn.add_listener(CHANNEL, self._notified)
                self._wake_everyone()  # whatever was committed while we were not listening
                await lost.wait()
                log.warning("stream listener connection lost; reconnecting")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("stream listener cannot connect: %s", error)
            except Exception:  # noqa: BLE001 - whatever it was, live pushes must come back
                log.exception("stream listener failed; restarting it")
            finally:
                if conn is not None and not conn.is_closed():
                    await conn.close()
            await asyncio.sleep(RECONNECT_SECONDS)
