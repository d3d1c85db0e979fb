"""The projector's side of the live stream, against real PostgreSQL: each site's log lines get
consecutive positions in commit order, and the NOTIFY is delivered once the rows are committed."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest

from shared.infra.channels import STREAM as CHANNEL
from services.projector.adapters.writer import project
from shared.infra.db import create_pool
from tests.support.stack import SESSION, drop_database, migrated_database

pytestmark = pytest.mark.integration


@pytest.fixture
async def database():
    name = f"automation_test_stream_{SESSION}"
    url = migrated_database(name)
    pool = await create_pool(url, max_size=4)
    yield url, pool
    await pool.close()
    drop_database(name)


def _events(site_id: str, count: int, run_id: str | None = None, first: int = 1) -> list[dict[str, Any]]:
    run_id = run_id or str(uuid.uuid4())
    started = {"trigger_type": "manual", "estimated_credits": 1, "reserved_credits": 2}
    stage = {"stage": 1, "name": "keywords_to_clusters", "items_total": 3}
    return [{"event_id": str(uuid.uuid4()), "run_id": run_id, "site_id": site_id, "account_id": "acct",
             "sequence": n, "type": "RunStarted" if n == 1 else "StageStarted", "data": started if n == 1 else stage,
             "occurred_at": f"2026-01-01T00:00:{n:02d}Z", "hash": f"h{n}", "prev_hash": f"h{n - 1}"}
            for n in range(first, first + count)]


async def _positions(pool: asyncpg.Pool, run_id: str) -> list[int]:
    rows = await pool.fetch("SELECT stream_position FROM run_log_lines WHERE run_id = $1 ORDER BY sequence", run_id)
    return [r["stream_position"] for r in rows]


async def test_each_site_counts_its_own_positions_and_a_redelivery_takes_none(database) -> None:
    _, pool = database
    first, second, other = _events("s1", 3), _events("s1", 2), _events("s2", 2)
    async with pool.acquire() as conn:
        await project(conn, first + other)
        await project(conn, first[1:])  # redelivered: nothing new
        await project(conn, second)
    assert await _positions(pool, first[0]["run_id"]) == [1, 2, 3]
    assert await _positions(pool, second[0]["run_id"]) == [4, 5]
    assert await _positions(pool, other[0]["run_id"]) == [1, 2]
    assert await pool.fetchval("SELECT position FROM site_stream_position WHERE site_id = 's1'") == 5


async def test_positions_follow_commit_order_and_the_notify_follows_the_commit(database) -> None:
    url, pool = database
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(url)
    await listener.add_listener(CHANNEL, lambda *args: heard.put_nowait(args[-1]))
    early, late = _events("s1", 2), _events("s1", 2)
    try:
        async with pool.acquire() as slow, pool.acquire() as fast:
            outer = slow.transaction()
            await outer.start()
            await project(slow, early)  # positions taken, not yet committed
            racing = asyncio.create_task(project(fast, late))
            await asyncio.sleep(0.3)
            assert not racing.done(), "a second writer of the site must wait for the first to commit"
            assert heard.empty(), "nothing is announced before the commit"
            await outer.commit()
            await asyncio.wait_for(racing, 5)
        assert await asyncio.wait_for(heard.get(), 5) == "s1"
        assert await _positions(pool, early[0]["run_id"]) == [1, 2]
        assert await _positions(pool, late[0]["run_id"]) == [3, 4]
    finally:
        await listener.close()


async def test_two_runs_of_one_site_in_one_batch_take_consecutive_positions_in_batch_order(database) -> None:
    _, pool = database
    one, two = _events("s1", 3), _events("s1", 2)
    async with pool.acquire() as conn:
        assert await project(conn, one[:1] + two + one[1:]) == 5
    assert await _positions(pool, one[0]["run_id"]) == [1, 2, 3]
    assert await _positions(pool, two[0]["run_id"]) == [4, 5]
    stored = await pool.fetch("SELECT event_id, type, occurred_at, data, hash, prev_hash FROM run_events"
                              " WHERE run_id = $1 ORDER BY sequence", one[0]["run_id"])
    assert [(r["event_id"], r["type"], r["occurred_at"].isoformat().replace("+00:00", "Z"), r["data"], r["hash"],
             r["prev_hash"]) for r in stored] == [
        (e["event_id"], e["type"], e["occurred_at"], e["data"], e["hash"], e["prev_hash"]) for e in one]
