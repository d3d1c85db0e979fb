"""`as_of` on a 20,000-event run: folded in a worker thread from the projector's nearest
snapshot, so it folds at most SNAPSHOT_EVERY events, and answers as a fold from the start does."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.api.adapters.queries import runs
from services.projector.adapters.writer import project
from shared.infra.db import create_pool
from shared.run_view import SNAPSHOT_EVERY, advance, evolve
from tests.support.stack import SESSION, drop_database, migrated_database

pytestmark = pytest.mark.integration
EVENTS = 20_000
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _event(run_id: str, sequence: int, kind: str, data: dict) -> dict:
    at = START + timedelta(seconds=sequence)
    return {"event_id": str(uuid.uuid4()), "type": kind, "run_id": run_id, "site_id": "site", "account_id": "acct",
            "sequence": sequence, "occurred_at": at.isoformat().replace("+00:00", "Z"), "data": data,
            "hash": f"h{sequence}", "prev_hash": f"h{sequence - 1}" if sequence > 1 else ""}


def _long_run(run_id: str) -> list[dict]:
    events = [_event(run_id, 1, "RunStarted", {"trigger_type": "manual", "estimated_credits": EVENTS,
                                                "reserved_credits": EVENTS * 2, "config": {}}),
              _event(run_id, 2, "StageStarted", {"stage": 1, "name": "keywords_to_clusters", "items_total": EVENTS})]
    for sequence in range(3, EVENTS + 1):
        events.append(_event(run_id, sequence, "CreditsUsed", {"stage": 1, "credits": 1}) if sequence % 2 else
                      _event(run_id, sequence, "BatchProcessed", {"stage": 1, "batch_id": str(sequence),
                                                                  "processed": 1, "failed": 0,
                                                                  "outputs_created": 1, "credits": 1}))
    return events


def _fold_from_start(events: list[dict], until: int) -> dict:
    view = None
    for event in events[:until]:
        view = evolve(view, event)
    return view


@pytest.fixture
async def pool():
    name = f"automation_test_asof_{SESSION}"
    url = migrated_database(name)
    pool = await create_pool(url)
    yield pool
    await pool.close()
    drop_database(name)


async def test_as_of_folds_only_the_tail_after_a_snapshot_off_the_event_loop(pool, monkeypatch) -> None:
    run_id = str(uuid.uuid4())
    events = _long_run(run_id)
    async with pool.acquire() as conn:
        for first in range(0, EVENTS, 500):  # as the projector's Kafka batches would
            await project(conn, events[first:first + 500])
    assert await pool.fetchval("SELECT count(*) FROM run_view_snapshots WHERE run_id = $1", run_id) \
        == EVENTS // SNAPSHOT_EVERY

    folded: list[int] = []
    loop_thread = threading.get_ident()

    def counting(view, event):
        folded.append(threading.get_ident())
        return advance(view, event)

    monkeypatch.setattr(runs, "advance", counting)
    for until in (1, 999, 1000, 1001, 12_345, EVENTS - 1, EVENTS):
        folded.clear()
        as_of = START + timedelta(seconds=until, milliseconds=500)
        view = await runs.run_as_of(pool, run_id, "acct", as_of)
        expected = _fold_from_start(events, until)
        assert view == expected, until
        assert len(folded) < SNAPSHOT_EVERY
        assert loop_thread not in folded
    assert await runs.run_as_of(pool, run_id, "acct", START) is None
    assert await runs.run_as_of(pool, run_id, "another-account", START + timedelta(days=1)) is None
