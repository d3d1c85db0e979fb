"""The read models don't depend on how events are batched, against real PostgreSQL: runs of
several sites projected one event at a time, and the same events in mixed batches with
redeliveries (as the projector's Kafka batches bring them), leave the same rows behind; only
the order in which one site's runs take stream positions follows the batches."""

from __future__ import annotations

import random
import uuid
from typing import Any

import asyncpg
import pytest

from services.projector.adapters.writer import project
from shared.infra.db import create_pool
from tests.support.stack import SESSION, drop_database, migrated_database

pytestmark = pytest.mark.integration
STAGES = ((1, "keywords_to_clusters"), (2, "clusters_to_ideas"))


def _run(site_id: str) -> list[dict[str, Any]]:
    run_id, events = str(uuid.uuid4()), []

    def add(kind: str, data: dict[str, Any]) -> None:
        sequence = len(events) + 1
        events.append({"event_id": str(uuid.uuid4()), "run_id": run_id, "site_id": site_id, "account_id": "acct",
                       "sequence": sequence, "type": kind, "data": data,
                       "occurred_at": f"2026-01-01T00:{sequence // 60:02d}:{sequence % 60:02d}.{sequence:06d}Z",
                       "hash": f"{run_id}-{sequence}", "prev_hash": f"{run_id}-{sequence - 1}"})

    add("RunStarted", {"trigger_type": "manual", "estimated_credits": 40, "reserved_credits": 50})
    for stage, name in STAGES:
        add("StageStarted", {"stage": stage, "name": name, "items_total": 4})
        for batch in range(2):
            items = [{"id": f"{stage}-{batch}-{n}", "title": f"item «{n}» of batch {batch}"} for n in range(2)]
            add("BatchStarted", {"stage": stage, "items": items, "item_count": 2})
            add("BatchProcessed", {"stage": stage, "processed": 2, "failed": 0, "outputs_created": 2, "credits": 3})
            add("CreditsUsed", {"stage": stage, "credits": 3})
        add("StageCompleted", {"stage": stage, "name": name, "items_total": 4, "items_processed": 4,
                               "items_failed": 0, "outputs_created": 4, "credits_used": 6,
                               "started_at": "2026-01-01T00:00:02Z", "completed_at": "2026-01-01T00:00:30Z",
                               "partial": False})
    add("RunPaused", {"stage": 2, "reason": "user"})
    add("RunResumed", {"stage": 2})
    add("RunCompleted", {"total_credits_used": 12})
    return events


def _in_mixed_batches(runs: list[list[dict[str, Any]]], rng: random.Random) -> list[list[dict[str, Any]]]:
    """Each run's events in order, interleaved across runs, a few of them delivered twice."""
    pending, batches, sent = [list(run) for run in runs], [], []
    while any(pending):
        batch = []
        for run in rng.sample([run for run in pending if run], k=min(2, sum(1 for run in pending if run))):
            take = rng.randint(1, 4)
            batch += run[:take]
            del run[:take]
        if sent and rng.random() < 0.3:
            batch = rng.sample(sent, k=1) + batch  # redelivered
        sent += batch
        batches.append(batch)
    return batches


async def _tables(pool: asyncpg.Pool) -> dict[str, Any]:
    return {
        "views": [dict(r) for r in await pool.fetch("SELECT * FROM run_view ORDER BY run_id")],
        "events": [dict(r) for r in await pool.fetch("SELECT * FROM run_events ORDER BY run_id, sequence")],
        "lines": [dict(r) for r in await pool.fetch(
            "SELECT run_id, sequence, line_no, line, site_id FROM run_log_lines ORDER BY run_id, sequence")],
    }


async def _positions(pool: asyncpg.Pool) -> dict[str, list[tuple[str, int]]]:
    by_site: dict[str, list[tuple[str, int]]] = {}
    for row in await pool.fetch("SELECT site_id, run_id, stream_position FROM run_log_lines"
                                " ORDER BY site_id, run_id, sequence"):
        by_site.setdefault(row["site_id"], []).append((row["run_id"], row["stream_position"]))
    return by_site


@pytest.fixture
async def two_pools():
    names = [f"automation_test_batching_{which}_{SESSION}" for which in ("single", "mixed")]
    pools = [await create_pool(migrated_database(name), max_size=1) for name in names]
    yield pools
    for pool, name in zip(pools, names):
        await pool.close()
        drop_database(name)


async def test_mixed_batches_leave_the_rows_one_event_at_a_time_leaves(two_pools) -> None:
    single, mixed = two_pools
    runs = [_run("s1"), _run("s1"), _run("s2")]
    async with single.acquire() as conn:
        for event in [e for run in runs for e in run]:
            await project(conn, [event])
    applied = 0
    async with mixed.acquire() as conn:
        for batch in _in_mixed_batches(runs, random.Random(9)):
            applied += await project(conn, batch)

    assert applied == sum(len(run) for run in runs), "each event applied once, redeliveries skipped"
    assert await _tables(mixed) == await _tables(single)
    positions = await _positions(mixed)
    for site, taken in positions.items():
        assert sorted(p for _, p in taken) == list(range(1, len(taken) + 1)), f"site {site}: consecutive positions"
        for run_id in {r for r, _ in taken}:
            own = [p for r, p in taken if r == run_id]
            assert own == sorted(own), "a run's lines take positions in its order"
    assert await mixed.fetchval("SELECT count(*) FROM site_stream_position") == 2
