"""The window of a stage's items in flight: groups, what stays busy, what is recorded when."""

from __future__ import annotations

import asyncio

import pytest

from services.pipeline.application.stage_window import Window
from services.pipeline.application.stage_work import BatchOutcome

pytestmark = pytest.mark.unit


async def _returns(processed: int, credits: int) -> BatchOutcome:
    return BatchOutcome(processed=processed, credits=credits)


async def _never() -> BatchOutcome:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def test_a_returned_item_stays_busy_until_its_whole_group_is_recorded() -> None:
    window = Window()
    window.open("g1", [[{"id": "a"}], [{"id": "b"}]])
    fast, slow = asyncio.create_task(_returns(1, 2)), asyncio.create_task(_never())
    window.add(fast, "g1")
    window.add(slow, "g1")
    await asyncio.wait([fast])
    window.returned(fast)
    assert window.in_flight == 1
    assert window.busy() == {"a", "b"}  # "a" is back but not recorded: still pending in the store
    assert window.finished() == []
    window.abandon()
    [abandoned] = window.take_all()
    assert abandoned.outcome.processed == 1 and abandoned.outcome.credits == 2
    assert window.busy() == set()


async def test_finished_groups_stay_open_until_closed_once_recorded() -> None:
    window = Window()
    for name in ("g1", "g2"):
        window.open(name, [[{"id": f"{name}-x"}, {"id": f"{name}-y"}]])
        task = asyncio.create_task(_returns(2, 5))
        window.add(task, name)
        await asyncio.wait([task])
        window.returned(task)
    done = window.finished()
    assert [g.batch_id for g in done] == ["g1", "g2"]
    assert [g.outcome.processed for g in done] == [2, 2]
    # Until recorded, their items are still pending in the store, and a cancel must settle them.
    assert window.busy() == {"g1-x", "g1-y", "g2-x", "g2-y"}
    assert [g.batch_id for g in window.take_all()] == ["g1", "g2"]
    window.open("g3", [[{"id": "z"}]])
    task = asyncio.create_task(_returns(1, 1))
    window.add(task, "g3")
    await asyncio.wait([task])
    window.returned(task)
    window.close(window.finished())
    assert window.finished() == [] and window.busy() == set() and window.take_all() == []
