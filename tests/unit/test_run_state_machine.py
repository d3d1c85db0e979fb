"""The AutomationRun aggregate against random command sequences (hypothesis)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from services.pipeline.domain.errors import InvalidTransition
from services.pipeline.domain.run import AutomationRun
from shared.events.hashchain import ChainedRunEvent, verify_chain

pytestmark = pytest.mark.unit
CONFIG = {"within_stage_delay": 0, "between_stage_delay": 0, "stage_1_batch_size": 5}
ALLOWED = {
    "pause": {"running"},
    "resume": {"paused"},
    "cancel": {"running", "paused"},
    "fail": {"running", "paused"},
}


class RunMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)
        self.run = AutomationRun.start(
            run_id=str(uuid.uuid4()), site_id="site", account_id="acct", trigger_type="manual",
            config=CONFIG, reserved_credits=100, estimated_credits=80, now=self.now,
        )
        self.events = list(self.run.collect_events())
        self.status = "running"
        self.stage_open = False
        self.open_batch: str | None = None
        self.credits = 0

    def _tick(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def _attempt(self, action: str, allowed: bool, call) -> None:
        version = self.run.version
        if allowed:
            call()
        else:
            with pytest.raises(InvalidTransition):
                call()
            assert self.run.version == version, f"a refused {action} changed the run"
        self.events.extend(self.run.collect_events())

    @rule(action=st.sampled_from(sorted(ALLOWED)))
    def control(self, action: str) -> None:
        allowed = self.status in ALLOWED[action]
        now = self._tick()
        calls = {
            "pause": lambda: self.run.pause("user", now), "resume": lambda: self.run.resume(now),
            "cancel": lambda: self.run.cancel("user", now), "fail": lambda: self.run.fail("boom", now),
        }
        self._attempt(action, allowed, calls[action])
        if allowed:
            self.status = {"pause": "paused", "resume": "running", "cancel": "cancelled", "fail": "failed"}[action]

    @rule(items=st.integers(0, 30))
    def start_stage(self, items: int) -> None:
        now = self._tick()
        stage = self.run.current_stage
        self._attempt("start_stage", self.status == "running", lambda: self.run.start_stage(stage, items, now))
        if self.status == "running":
            self.stage_open = True

    @rule()
    def start_batch(self) -> None:
        now = self._tick()
        stage = self.run.current_stage
        allowed = self.status == "running" and self.stage_open
        batch_id = uuid.uuid4().hex
        self._attempt("start_batch", allowed, lambda: self.run.start_batch(stage, [{"id": "i", "title": "t"}], batch_id, now))
        if allowed:
            self.open_batch = batch_id

    @rule(processed=st.integers(0, 10), failed=st.integers(0, 3), credits=st.integers(0, 9), stale=st.booleans())
    def batch(self, processed: int, failed: int, credits: int, stale: bool) -> None:
        now = self._tick()
        stage = self.run.current_stage
        batch_id = uuid.uuid4().hex if stale or self.open_batch is None else self.open_batch
        allowed = (self.status in ("running", "paused") and self.stage_open
                   and batch_id == self.open_batch)
        failures = [{"item_id": f"i{n}", "title": "t", "error": "e"} for n in range(failed)]
        self._attempt("batch", allowed, lambda: self.run.process_batch(
            batch_id=batch_id, stage=stage, processed=processed, failures=failures,
            outputs_created=processed, credits=credits, now=now))
        if allowed:
            self.credits += credits
            self.open_batch = None  # a recorded batch can't be recorded again

    @precondition(lambda self: self.stage_open)
    @rule()
    def complete_stage(self) -> None:
        now = self._tick()
        stage = self.run.current_stage
        allowed = self.status == "running"
        self._attempt("complete_stage", allowed, lambda: self.run.complete_stage(stage, now))
        if allowed:
            self.stage_open = stage == 7  # the last stage stays current once done

    @rule()
    def complete(self) -> None:
        now = self._tick()
        done = self.run.stage_results.get("7", {}).get("completed_at") is not None
        allowed = self.status == "running" and self.run.current_stage == 7 and done
        self._attempt("complete", allowed, lambda: self.run.complete(now))
        if allowed:
            self.status = "completed"

    @invariant()
    def status_matches_the_model(self) -> None:
        assert self.run.status == self.status

    @invariant()
    def credits_add_up(self) -> None:
        assert self.run.total_credits_used == self.credits
        assert sum(r["credits_used"] for r in self.run.stage_results.values()) == self.credits

    @invariant()
    def events_form_an_unbroken_chain(self) -> None:
        assert [e.originator_version for e in self.events] == list(range(1, self.run.version + 1))
        chained = [
            ChainedRunEvent(run_id=str(e.originator_id), sequence=e.originator_version, type=type(e).__name__,
                            occurred_at=e.occurred_at, data=e.data, hash=e.hash, prev_hash=e.prev_hash)
            for e in self.events
        ]
        assert verify_chain(chained) is None

    @invariant()
    def replaying_the_events_gives_the_same_run(self) -> None:
        replayed = None
        for event in self.events:
            replayed = event.mutate(replayed)
        assert replayed.__dict__ == self.run.__dict__


RunMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestRunStateMachine = RunMachine.TestCase
