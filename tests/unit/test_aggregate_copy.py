"""A copy of an aggregate (a worker's read of the run it holds, the store cache's answer) has
the same state as the original and shares nothing it could mutate with it."""

from __future__ import annotations

import copy
import uuid
from datetime import datetime, timezone

import pytest

from services.pipeline.domain.aggregate_copy import PlainDataCopy
from services.pipeline.domain.run import AutomationRun
from services.pipeline.domain.site_slot import SiteSlot

pytestmark = pytest.mark.unit
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _run_in_its_second_stage() -> AutomationRun:
    run = AutomationRun.start(run_id=str(uuid.uuid4()), site_id="site", account_id="acct", trigger_type="manual",
                              config={"within_stage_delay": 0, "between_stage_delay": 0, "stage_1_batch_size": 5},
                              reserved_credits=100, estimated_credits=80, now=NOW)
    run.start_stage(1, 2, NOW)
    run.start_batch(1, [{"id": "k1", "title": "one"}, {"id": "k2", "title": "two"}], "w/b1", NOW)
    run.process_batch(batch_id="w/b1", stage=1, processed=2, failures=[], outputs_created=1, credits=3, now=NOW)
    run.complete_stage(1, NOW)
    run.start_stage(2, 1, NOW)
    run.start_batch(2, [{"id": "c1", "title": "cluster"}], "w/b2", NOW)
    return run


def test_a_copied_run_has_the_same_state_and_is_independent() -> None:
    run = _run_in_its_second_stage()
    clone = copy.deepcopy(run)
    assert type(clone) is AutomationRun and clone is not run
    assert clone.__dict__.keys() == run.__dict__.keys()
    assert {k: v for k, v in vars(clone).items() if k != "_pending_events"} == \
        {k: v for k, v in vars(run).items() if k != "_pending_events"}
    assert [e.__dict__ for e in clone._pending_events] == [e.__dict__ for e in run._pending_events]

    clone.stage_results["1"]["items_processed"] += 5
    clone.config["stage_1_batch_size"] = 50
    clone.open_batches.append("w/b3")
    run.collect_events()
    assert run.stage_results["1"]["items_processed"] == 2 and run.config["stage_1_batch_size"] == 5
    assert run.open_batches == ["w/b2"] and len(clone._pending_events) > 0

    clone.process_batch(batch_id="w/b2", stage=2, processed=1, failures=[], outputs_created=1, credits=0, now=NOW)
    assert run.open_batches == ["w/b2"] and run.version < clone.version  # the original goes on as it was


def test_a_copied_site_slot_has_the_same_state() -> None:
    slot = SiteSlot("site-1")
    slot.admit("run-1")
    clone = copy.deepcopy(slot)
    assert vars(clone).keys() == vars(slot).keys() and clone.active_run_id == "run-1" and clone.id == slot.id


class _State(PlainDataCopy):
    def __init__(self) -> None:
        shared = {"n": [1, 2]}
        self.a, self.b = shared, shared  # one dict under two names
        self.other = {1, 2}  # not plain data: copied as deepcopy does


def test_a_container_met_twice_is_copied_once_as_deepcopy_would() -> None:
    state = _State()
    clone = copy.deepcopy(state)
    assert clone.a is clone.b and clone.a is not state.a and clone.a["n"] is not state.a["n"]
    assert clone.a == state.a and clone.other == state.other and clone.other is not state.other
