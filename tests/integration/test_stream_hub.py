"""The API's one LISTEN connection, against real PostgreSQL: a notification wakes the streams
of its site only, and after losing its connection the hub reconnects and wakes every stream
(anything committed meanwhile would otherwise wait for a keep-alive)."""

from __future__ import annotations

import asyncio

import pytest

from services.api.adapters.stream_hub import StreamHub
from shared.infra.channels import STREAM as CHANNEL
from shared.infra.db import create_pool
from tests.support.stack import SESSION, drop_database, migrated_database

pytestmark = pytest.mark.integration
LISTENERS = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
             " AND query LIKE 'LISTEN%' AND state = 'idle'")


@pytest.fixture
async def database():
    name = f"automation_test_hub_{SESSION}"
    url = migrated_database(name)
    pool = await create_pool(url, max_size=2)
    yield url, pool
    await pool.close()
    drop_database(name)


async def _listening(pool, previous: int | None = None) -> int:
    """The pid of the hub's listening connection, once there is one (other than ``previous``)."""
    for _ in range(200):
        pids = [r["pid"] for r in await pool.fetch(LISTENERS)]
        if pids and pids[0] != previous:
            await asyncio.sleep(0.2)  # past the hub's wake-up of everyone after (re)connecting
            return pids[0]
        await asyncio.sleep(0.05)
    raise TimeoutError("the hub never listened")


def _clear(*events: asyncio.Event) -> None:
    for event in events:
        event.clear()


async def test_notifications_wake_their_site_and_a_lost_connection_is_replaced(database) -> None:
    url, pool = database
    hub = StreamHub(url)
    await hub.start()
    try:
        async with hub.subscribe("s1") as mine, hub.subscribe("s2") as theirs:
            first = await _listening(pool)
            _clear(mine, theirs)
            await pool.execute("SELECT pg_notify($1, 's1')", CHANNEL)
            await asyncio.wait_for(mine.wait(), 5)
            assert not theirs.is_set()

            _clear(mine, theirs)
            await pool.execute("SELECT pg_terminate_backend($1)", first)
            await asyncio.wait_for(asyncio.gather(mine.wait(), theirs.wait()), 10)
            await _listening(pool, previous=first)
            _clear(mine, theirs)
            await pool.execute("SELECT pg_notify($1, 's2')", CHANNEL)
            await asyncio.wait_for(theirs.wait(), 5)
            assert not mine.is_set()
    finally:
        await hub.stop()
