"""A save that loses the race for a run's next version fails at once, naming why.

In pipeline mode, leaving the transaction of a save whose statement failed can raise
PipelineAborted, which the library would retry after 0.2 s up to ten times; a pause racing a
worker's step then took 200-600 ms to be recorded. The recorder raises the statement's own
error instead: IntegrityError for a conflicting version, or the failed side-write's own error."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import eventsourcing.utils
import pytest
from eventsourcing.persistence import IntegrityError

from services.pipeline.adapters.event_store import RunStore
from services.pipeline.domain.run import AutomationRun
from tests.support.stores import scratch_store

pytestmark = pytest.mark.integration
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
SIDE_WRITES = [("SELECT pg_notify('conflict_test', 'x')", ()),
               ("UPDATE pipeline_runs SET status = status WHERE run_id = %s", ("none",))]


@pytest.fixture(scope="module")
def store():
    with scratch_store("conflicts") as (_, store):
        yield store


@pytest.fixture
def retry_sleeps(monkeypatch) -> list[float]:
    """The library's retry sleeps, counted instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(eventsourcing.utils, "sleep", slept.append)
    return slept


def _run(store: RunStore) -> AutomationRun:
    run = AutomationRun.start(run_id=str(uuid.uuid4()), site_id="site", account_id="account",
                              trigger_type="manual", config={}, reserved_credits=0, estimated_credits=0, now=NOW)
    store.save(run)
    return run


def test_a_conflicting_save_with_side_writes_fails_at_once_as_a_conflict(store, retry_sleeps) -> None:
    for _ in range(30):  # the lost error showed in about one save in three
        run = _run(store)
        stale = store.get(run.id)
        winner = store.get(run.id)
        winner.start_stage(1, 5, NOW)
        store.save_with(winner, side_writes=SIDE_WRITES)
        stale.start_stage(1, 3, NOW)
        with pytest.raises(IntegrityError):
            store.save_with(stale, side_writes=SIDE_WRITES)
        assert store.get(run.id).stage_results["1"]["items_total"] == 5  # the winner's, once
    assert retry_sleeps == []


def test_a_failing_side_write_fails_the_save_at_once_with_its_own_error(store, retry_sleeps) -> None:
    for _ in range(10):
        run = _run(store)
        fresh = store.get(run.id)
        fresh.start_stage(1, 5, NOW)
        unknown_account = ("INSERT INTO credit_ledger (entry_key, account_id, kind, amount, run_id, stage)"
                           " VALUES (%s, 'no-such-account', 'debit', 1, %s, 1)", (f"k-{uuid.uuid4()}", run.run_id))
        with pytest.raises(IntegrityError) as failure:
            store.save_with(fresh, side_writes=[unknown_account, *SIDE_WRITES])
        assert "credit_ledger" in str(failure.value)  # the statement's error, not "pipeline aborted"
        assert store.get(run.id).version == 1  # nothing of the failed save was stored
    assert retry_sleeps == []
