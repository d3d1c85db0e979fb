"""A run's slots and their queue: how many items wait for them (``queue_length``), the pace
of calls (``Pace``), and the gate that keeps a run's calls in flight within its slots and
starts none once the run stopped."""

from __future__ import annotations

import asyncio
import types
from dataclasses import replace

import pytest

from services.pipeline.adapters.planner_writes import PgPlannerWrites
from services.pipeline.application import ai_slots
from services.pipeline.application.ai_slots import (
    MAX_WINDOW, CallNotStarted, Pace, RunGate, capped, queue_length,
)
from services.pipeline.application.stage_work import STAGE_WORK, StageContext

pytestmark = pytest.mark.unit


# --- queue_length ---------------------------------------------------------------------------


@pytest.mark.parametrize("step, call", [(None, None), (0.05, None), (None, 0.2)])
def test_the_queue_is_a_slots_worth_until_both_paces_are_known(step, call) -> None:
    assert queue_length(8, step, call) == 8
    assert queue_length(1, step, call) == 1


def test_no_slots_no_queue() -> None:
    assert queue_length(0, 0.5, 0.01) == 0


def test_the_queue_keeps_every_slot_busy_through_a_step() -> None:
    # ceil(width × step ÷ call): calls that return three times per step need three slots' worth.
    assert queue_length(4, 0.3, 0.1) == 12
    assert queue_length(8, 0.5, 0.1) == 40
    assert queue_length(5, 0.21, 0.1) == 11  # rounded up, not down


def test_the_queue_grows_with_how_many_calls_return_during_a_step() -> None:
    ratios = [0.01, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 12.0]
    lengths = [queue_length(8, ratio * 0.1, 0.1) for ratio in ratios]
    assert lengths == sorted(lengths)
    assert lengths[0] == 8 and lengths[-1] > lengths[4] > lengths[0]


@pytest.mark.parametrize("width", [1, 2, 8, 16, 63, 64])
def test_the_window_never_exceeds_its_cap_and_the_queue_never_falls_below_the_width(width) -> None:
    for step, call in [(10.0, 0.001), (1.0, 0.0), (0.5, 0.1), (0.01, 5.0), (0.0, 0.2)]:
        length = queue_length(width, step, call)
        assert width <= length
        assert width + length <= MAX_WINDOW, (width, step, call, length)


def test_instant_calls_fill_the_window() -> None:
    assert queue_length(8, 0.02, 0.0) == MAX_WINDOW - 8


# --- Pace -----------------------------------------------------------------------------------


def test_a_pace_is_unknown_until_its_first_duration_then_that_duration() -> None:
    pace = Pace()
    assert pace.seconds is None
    pace.add(0.4)
    assert pace.seconds == pytest.approx(0.4)


def test_a_pace_moves_a_fifth_of_the_way_towards_each_new_duration() -> None:
    pace = Pace()
    pace.add(1.0)
    pace.add(2.0)
    assert pace.seconds == pytest.approx(1.2)
    pace.add(0.2)
    assert pace.seconds == pytest.approx(1.2 + 0.2 * (0.2 - 1.2))


def test_a_pace_settles_on_a_steady_duration() -> None:
    pace = Pace()
    pace.add(5.0)
    for _ in range(60):
        pace.add(0.1)
    assert pace.seconds == pytest.approx(0.1, abs=1e-4)


# --- RunGate --------------------------------------------------------------------------------


async def _settle() -> None:
    """Lets every task that can move move: the gate's tasks wait on nothing but each other."""
    for _ in range(50):
        await asyncio.sleep(0)


async def _until(condition, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0)


class Calls:
    """Calls through a gate, each holding its slot until released one by one."""

    def __init__(self, gate: RunGate) -> None:
        self.gate = gate
        self.holding: list[asyncio.Event] = []  # the release of each call holding a slot now
        self.most = 0
        self.done = 0

    def start(self, count: int) -> list[asyncio.Task]:
        return [asyncio.create_task(self._call()) for _ in range(count)]

    async def _call(self) -> None:
        async with self.gate.slot():
            release = asyncio.Event()
            self.holding.append(release)
            self.most = max(self.most, len(self.holding))
            await release.wait()
            self.holding.remove(release)
        self.done += 1

    def release_one(self) -> None:
        self.holding[0].set()

    async def finish_one(self) -> None:
        """Let the longest-held call return, and wait until it has."""
        done = self.done
        self.release_one()
        await _until(lambda: self.done > done)


async def test_a_gate_never_lets_more_calls_than_its_limit_in_at_once() -> None:
    gate = RunGate()
    gate.resize(3)
    calls = Calls(gate)
    tasks = calls.start(20)
    await _settle()
    assert len(calls.holding) == 3 and gate.active == 3
    while calls.done < 20:
        await calls.finish_one()
        await _settle()
        assert len(calls.holding) == min(3, 20 - calls.done)
    await asyncio.gather(*tasks)
    assert calls.most == 3 and gate.active == 0


async def test_a_gate_with_no_slots_lets_no_call_in() -> None:
    gate = RunGate()
    calls = Calls(gate)
    tasks = calls.start(2)
    await _settle()
    assert calls.holding == []
    gate.resize(2)
    await _until(lambda: len(calls.holding) == 2)
    for _ in range(2):
        calls.release_one()
        await _settle()
    await asyncio.gather(*tasks)


async def test_more_slots_let_waiting_calls_in_at_once() -> None:
    gate = RunGate()
    gate.resize(1)
    calls = Calls(gate)
    tasks = calls.start(5)
    await _settle()
    assert len(calls.holding) == 1
    gate.resize(4)  # no call returned: the waiters go in on the resize alone
    await _until(lambda: len(calls.holding) == 4)
    await _settle()
    assert len(calls.holding) == 4 and calls.done == 0
    while calls.done < 5:
        await calls.finish_one()
    await asyncio.gather(*tasks)
    assert calls.most == 4


async def test_fewer_slots_let_calls_in_flight_finish_and_admit_none_until_below_the_limit() -> None:
    gate = RunGate()
    gate.resize(4)
    calls = Calls(gate)
    tasks = calls.start(4)
    await _until(lambda: len(calls.holding) == 4)
    waiting = calls.start(1)
    gate.resize(2)
    await _settle()
    assert len(calls.holding) == 4  # in flight: nothing taken away from them

    for still_holding in (3, 2):  # at or above the new limit: the waiter stays out
        calls.release_one()
        await _until(lambda: gate.active == still_holding)
        await _settle()
        assert len(calls.holding) == still_holding and not waiting[0].done()
        assert calls.done == 4 - still_holding

    calls.release_one()  # one in flight, below two: the waiter goes in
    await _until(lambda: len(calls.holding) == 2 and calls.done == 3)
    while calls.holding:
        calls.release_one()
        await _settle()
    await asyncio.gather(*tasks, *waiting)
    assert gate.active == 0 and calls.done == 5


async def test_a_call_woken_for_a_freed_slot_and_cancelled_before_taking_it_passes_it_on() -> None:
    gate = RunGate()
    gate.resize(1)
    entered: list[str] = []

    async def enter(name: str) -> None:
        async with gate.slot():
            entered.append(name)
            await asyncio.Event().wait()  # holds the slot until cancelled

    async with gate.slot():  # the only slot, held here
        first, second = asyncio.create_task(enter("first")), asyncio.create_task(enter("second"))
        await _settle()
        assert entered == []
    first.cancel()  # leaving the slot woke the first waiter; it is cancelled before it looks
    await _until(lambda: entered == ["second"])
    assert gate.active == 1 and first.cancelled()
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    assert gate.active == 0


async def test_a_freed_slot_wakes_one_waiting_call_not_all_of_them() -> None:
    looks = [0]  # how often a call looked whether the run stopped: each wake-up looks

    def stopped() -> bool:
        looks[0] += 1
        return False

    gate = RunGate(stopped)
    gate.resize(2)
    calls = Calls(gate)
    tasks = calls.start(30)
    await _settle()
    assert len(calls.holding) == 2
    before = looks[0]
    await calls.finish_one()
    await _settle()
    assert len(calls.holding) == 2
    assert looks[0] - before <= 4  # the leaving call and the one it woke, not the 28 waiting
    while calls.done < 30:
        await calls.finish_one()
    await asyncio.gather(*tasks)
    assert calls.most == 2 and gate.active == 0


async def test_a_gate_learns_how_long_a_call_holds_its_slot(monkeypatch) -> None:
    now = [100.0]
    monkeypatch.setattr(ai_slots, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    gate = RunGate()
    gate.resize(2)
    assert gate.call_seconds.seconds is None
    async with gate.slot():
        now[0] += 0.5
    assert gate.call_seconds.seconds == pytest.approx(0.5)
    async with gate.slot():
        now[0] += 1.5
    assert gate.call_seconds.seconds == pytest.approx(0.5 + 0.2 * (1.5 - 0.5))


async def test_a_call_that_fails_still_frees_its_slot_and_counts_its_time(monkeypatch) -> None:
    now = [0.0]
    monkeypatch.setattr(ai_slots, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    gate = RunGate()
    gate.resize(1)
    with pytest.raises(RuntimeError):
        async with gate.slot():
            now[0] += 0.25
            raise RuntimeError("the provider failed")
    assert gate.active == 0 and gate.call_seconds.seconds == pytest.approx(0.25)
    async with asyncio.timeout(5):
        async with gate.slot():
            assert gate.active == 1


# --- RunSlots: one lease per run ---------------------------------------------------------


class Ceiling:
    """An account's slots, granting at most ``ceiling`` to anyone and noting each lease."""

    def __init__(self, ceiling: int) -> None:
        self.ceiling = ceiling
        self.leases: list[tuple[str, int]] = []

    def lease(self, account_id: str, holder: str, wanted: int, ttl_seconds: float) -> int:
        self.leases.append((holder, wanted))
        return min(wanted, self.ceiling)

    def give_back(self, account_id: str, holder: str) -> tuple[str, tuple[str, ...]]:
        return "give back", (holder,)


async def test_a_run_leases_once_per_renewal_period_and_again_when_it_wants_another_number(monkeypatch) -> None:
    now = [50.0]
    monkeypatch.setattr(ai_slots, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    account = Ceiling(ceiling=6)
    slots = ai_slots.RunSlots(account, "acc", "run-1")
    slots.want(8)
    assert await slots.width() == 6
    assert await slots.width() == 6 and account.leases == [("run-1", 8)]  # within the period: no trip
    now[0] += ai_slots.RENEW_SECONDS
    assert await slots.width() == 6 and account.leases == [("run-1", 8)] * 2
    slots.want(1)  # the next stage clusters: one slot, asked for at once
    assert await slots.width() == 1 and account.leases[-1] == ("run-1", 1)
    slots.want(1)
    assert await slots.width() == 1 and len(account.leases) == 3


async def test_a_blocking_renewal_counts_as_the_periods_lease_and_a_release_gives_the_slots_back(monkeypatch) -> None:
    now = [0.0]
    monkeypatch.setattr(ai_slots, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    account = Ceiling(ceiling=16)
    slots = ai_slots.RunSlots(account, "acc", "run-1")
    await slots.release()
    assert account.leases == []  # nothing held, nothing to give back
    slots.want(4)
    slots.renew()
    assert slots.renew_in == ai_slots.RENEW_SECONDS
    assert await slots.width() == 4 and account.leases == [("run-1", 4)]
    await slots.release()
    assert account.leases[-1] == ("run-1", 0)
    assert slots.renew_in == 0  # the next width() leases again
    assert await slots.width() == 4 and account.leases[-1] == ("run-1", 4)


async def test_giving_back_blocking_releases_a_held_lease_once(monkeypatch) -> None:
    """For the hop of the step that completed the run: its release, so the worker's own finds
    nothing left to give back."""
    monkeypatch.setattr(ai_slots, "time", types.SimpleNamespace(monotonic=lambda: 10.0))
    account = Ceiling(ceiling=16)
    slots = ai_slots.RunSlots(account, "acc", "run-1")
    slots.give_back()
    assert account.leases == []  # nothing held
    slots.want(4)
    slots.renew()
    slots.give_back()
    assert account.leases == [("run-1", 4), ("run-1", 0)] and slots.renew_in == 0
    await slots.release()
    assert account.leases == [("run-1", 4), ("run-1", 0)]


async def test_a_lease_given_back_with_another_transaction_is_not_given_back_again(monkeypatch) -> None:
    """The run's completion carries the release; once it committed, the worker's own finds
    nothing left to give back."""
    monkeypatch.setattr(ai_slots, "time", types.SimpleNamespace(monotonic=lambda: 10.0))
    account = Ceiling(ceiling=16)
    slots = ai_slots.RunSlots(account, "acc", "run-1")
    assert slots.give_back_with() == []  # nothing held
    slots.want(4)
    slots.renew()
    assert slots.give_back_with() == [("give back", ("run-1",))]
    slots.given_back()
    await slots.release()
    assert account.leases == [("run-1", 4)] and slots.renew_in == 0


async def test_a_call_waiting_for_a_slot_never_starts_once_the_run_stopped() -> None:
    stop = {"requested": False}
    gate = RunGate(lambda: stop["requested"])
    gate.resize(1)
    started: list[int] = []
    answer = asyncio.Event()

    async def ask(n: int) -> int:
        started.append(n)
        await answer.wait()
        return n

    call = capped(ask, asyncio.Semaphore(10), gate)
    first, second = asyncio.create_task(call(1)), asyncio.create_task(call(2))
    while started != [1]:
        await asyncio.sleep(0)
    stop["requested"] = True  # a pause lands while call 2 waits for the slot call 1 holds
    answer.set()
    assert await first == 1  # the call in flight finishes
    with pytest.raises(CallNotStarted):
        await second
    assert started == [1] and gate.active == 0


async def test_a_stop_wakes_calls_waiting_with_no_slot_at_all() -> None:
    stop = {"requested": False}
    gate = RunGate(lambda: stop["requested"])  # limit 0: the lease granted nothing
    waiting = asyncio.create_task(capped(_never_called, asyncio.Semaphore(1), gate)())
    await asyncio.sleep(0)
    assert not waiting.done()
    stop["requested"] = True
    gate.wake()
    with pytest.raises(CallNotStarted):
        await asyncio.wait_for(waiting, timeout=5)


async def _never_called() -> None:
    raise AssertionError("the call started")


async def test_an_item_whose_call_never_started_stays_pending() -> None:
    async def not_started(*_: object) -> None:
        raise CallNotStarted

    ctx = StageContext("run", "site", 4, PgPlannerWrites(), not_started, _no_clusters)
    outcome = await STAGE_WORK[4].work(ctx, [{"id": "task-1", "title": "t", "description": "d", "keywords": []}])
    assert (outcome.processed, outcome.failures, outcome.writes, outcome.credits) == (0, [], [], 0)
    clustering = await STAGE_WORK[1].work(
        replace(ctx, stage=1), [{"id": "kw-1", "title": "k", "keyword": "k", "volume": 1, "intent": None}])
    assert (clustering.processed, clustering.failures, clustering.writes) == (0, [], [])


async def _no_clusters() -> list:
    return []
