"""A StartRun for a busy site is refused from its slot alone: the pending items (the costly
part of admission) are never counted."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.pipeline.application.commands import CommandHandlers
from services.pipeline.domain.site_slot import SiteSlot
from shared.events.commands import Outcome, StartRun

pytestmark = pytest.mark.unit


class BusySlots:
    def __init__(self, slot: SiteSlot) -> None:
        self.slot = slot

    def get(self, _: Any) -> SiteSlot:
        return self.slot


class Planner:
    def __init__(self) -> None:
        self.logged: list[tuple] = []

    def command_outcome(self, _: str) -> None:
        return None

    def admission_inputs(self, *_: Any) -> Any:
        raise AssertionError("the pending items were counted for a busy site")

    def log_command(self, command: Any, outcome: Outcome, code: str | None = None, details: Any = None) -> list:
        return [(command.command_id, outcome, code, details)]

    def execute(self, writes: list) -> None:
        self.logged.extend(writes)


def test_a_busy_site_is_refused_before_its_pending_items_are_counted() -> None:
    slot = SiteSlot(site_id="site")
    active = str(uuid.uuid4())
    slot.admit(active)
    planner = Planner()
    handlers = CommandHandlers(BusySlots(slot), planner)  # type: ignore[arg-type]
    decision = handlers.handle(StartRun(site_id="site", account_id="acct", run_id=str(uuid.uuid4())))
    assert (decision.outcome, decision.error_code) == (Outcome.REJECTED, "run_active")
    assert planner.logged[0][2:] == ("run_active", {"run_id": active})
