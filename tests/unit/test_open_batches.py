"""Several batches of a run open at once (a window of AI calls): each recorded once, and a
batch of another worker (a restart, a second process) closes every batch of the previous one."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings, strategies as st

from services.pipeline.domain.errors import InvalidTransition
from services.pipeline.domain.run import AutomationRun

pytestmark = pytest.mark.unit
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _run() -> AutomationRun:
    run = AutomationRun.start(run_id=str(uuid.uuid4()), site_id="s", account_id="a", trigger_type="manual",
                              config={}, reserved_credits=100, estimated_credits=80, now=NOW)
    run.start_stage(1, 10, NOW)
    return run


def _record(run: AutomationRun, batch_id: str, credits: int = 1) -> None:
    run.process_batch(batch_id=batch_id, stage=1, processed=1, failures=[], outputs_created=1, credits=credits, now=NOW)


# Each step: a worker (0-2) opens a batch, or records one of the batches opened so far.
steps = st.lists(st.tuples(st.sampled_from(["open", "record"]), st.integers(0, 2), st.integers(0, 20)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(steps)
def test_each_batch_is_recorded_at_most_once_and_only_by_the_current_worker(plan) -> None:
    run = _run()
    opened: list[tuple[int, str]] = []  # (worker, batch id) in order
    recorded: set[str] = set()
    for action, worker, pick in plan:
        if action == "open":
            batch_id = f"w{worker}/{uuid.uuid4().hex}"
            run.start_batch(1, [{"id": "i", "title": "t"}], batch_id, NOW)
            opened.append((worker, batch_id))
            continue
        if not opened:
            continue
        index = pick % len(opened)
        owner, batch_id = opened[index]
        superseded = any(worker != owner for worker, _ in opened[index + 1:])
        allowed = batch_id not in recorded and not superseded
        if allowed:
            _record(run, batch_id)
            recorded.add(batch_id)
        else:
            with pytest.raises(InvalidTransition):
                _record(run, batch_id)
    assert run.total_credits_used == len(recorded)


def test_a_paused_run_records_the_batches_that_were_in_flight() -> None:
    run = _run()
    run.start_batch(1, [{"id": "i", "title": "t"}], "w/1", NOW)
    run.start_batch(1, [{"id": "j", "title": "t"}], "w/2", NOW)
    run.pause("user", NOW)
    _record(run, "w/2")
    _record(run, "w/1")
    with pytest.raises(InvalidTransition):
        _record(run, "w/1")
    assert run.status == "paused" and run.total_credits_used == 2
