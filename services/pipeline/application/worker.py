"""Carries one run through its stages, its items flowing through a window of AI calls.

Each step of a stage (stage_cycle.py) records the groups whose calls all returned and
admits the next items as one group (``BatchStarted``), in one thread hop; their AI calls
then start. A stage's first step starts it and its last completes it (after the last stage,
the run too), the last one's hop leasing the slots the next stage wants and taking the next
stage's first step (a step like any other, in a transaction of its own): starting, completing
and leasing take no hop or transaction of their own. A crash anywhere loses at most the
unrecorded groups, which the next owner of the run does again (its first batch closes the old
ones).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, TypeVar
from uuid import uuid4

from eventsourcing.persistence import IntegrityError

from services.pipeline.application.ai_port import AIProvider
from services.pipeline.application.ai_slots import RENEW_SECONDS, Pace, RunGate, RunSlots, capped, queue_length
from services.pipeline.application.commands import Clock, CommandHandlers, utcnow
from services.pipeline.application.held_runs import HeldRuns
from services.pipeline.application.ports import AccountSlots, Item, Planner, RunStore
from services.pipeline.application.stage_cycle import (
    StageSteps, Step, StepResult, batch_key, group_writes, record_group,
)
from services.pipeline.application.stage_window import Group, Window
from services.pipeline.application.stage_work import STAGE_WORK, StageContext, StageWork
from services.pipeline.application.stop_flag import StopFlag
from services.pipeline.domain.errors import InvalidTransition
from services.pipeline.domain.run import AutomationRun
from shared.stages import LAST_STAGE, next_stage

__all__ = ["RunWorker", "StopFlag"]

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_AI_CONCURRENCY = 8  # runs admitted before ai_concurrency existed
MAX_REFUSALS = 5  # consecutive refused writes before the run is given up as broken


class RunWorker:
    def __init__(self, store: RunStore, handlers: CommandHandlers, ai: AIProvider, slots: AccountSlots,
                 max_in_flight: int = 64, clock: Clock = utcnow) -> None:
        self.store = store
        self.planner: Planner = handlers.planner
        self.ai = ai
        self.slots = slots
        self.gate = asyncio.Semaphore(max_in_flight)  # the process's cap, AI_MAX_IN_FLIGHT
        self.clock = clock
        self.runs = HeldRuns(store, handlers)
        handlers.admitted = self.runs.hold  # a run's first hop starts from the run as admitted
        self.steps = StageSteps(self.planner, self.runs, clock)

    async def execute(self, run_id: str, stop: StopFlag) -> None:
        refused = 0
        slots: RunSlots | None = None
        try:
            while not stop.requested:
                # As this worker saved it last: a pause or cancel recorded since then fails the
                # next commit, which then reads the run afresh.
                run = self.runs.held(run_id) or await asyncio.to_thread(self.runs.latest, run_id)
                if run.status != "running":
                    return
                slots = slots or RunSlots(self.slots, run.account_id, run.run_id)
                try:
                    if not await self._advance(run, stop, slots):
                        return
                    refused = 0
                except InvalidTransition:
                    # The run changed between our read and our write: a pause or cancel was
                    # recorded, or another worker recorded this batch. Look again, don't fail it.
                    refused += 1
                    if refused > MAX_REFUSALS:
                        raise
                    await stop.sleep(0.05 * refused)
        finally:
            self.runs.forget(run_id)
            if slots is not None:
                await asyncio.shield(slots.release())

    async def _advance(self, run: AutomationRun, stop: StopFlag, slots: RunSlots) -> bool:
        """Carry the run's current stage through. False once stopped, or once the run completed."""
        stage = run.current_stage
        if stage == LAST_STAGE and run.stage_results.get(str(stage), {}).get("completed_at"):
            # Its last stage completed without the run (recorded apart before they went together).
            await self._commit(run.run_id, lambda r: r.complete(self.clock()))
            return False
        delay = run.config["between_stage_delay"]
        if str(stage) not in run.stage_results and stage > 1 and delay > 0:
            await slots.release()  # no calls while it waits: the account's other runs may use them
            await stop.sleep(delay)
            if stop.requested:
                return False
        flow = _StageFlow(self, run, STAGE_WORK[stage], stop, Window(), slots)
        while await self._run_stage(flow):
            if flow.following is None:
                # The last stage's completing step completed the run too.
                return flow.entry.number != LAST_STAGE
            flow = flow.following  # started in the hop that completed the stage before
        return False

    async def fail(self, run_id: str, error: Exception) -> None:
        message = f"{type(error).__name__}: {error}"[:500]
        try:
            await self._commit(run_id, lambda r: r.fail(message, self.clock()), fresh=True)
        except InvalidTransition:
            pass  # it had ended already

    async def _run_stage(self, flow: _StageFlow) -> bool:
        """Returns True when the stage completed, False when the run stopped in it. The stage
        starts in its flow's first step (every flow's, so a resumed stage starts again)."""
        if flow.entry.ai_method:
            flow.lease.want(_slots_wanted(flow.entry, flow.run_.config))
        try:
            return await flow.run()
        except asyncio.CancelledError:
            await self._settle_abandoned(flow.run_, flow.entry.number, flow.window)
            raise
        finally:
            flow.window.abandon()

    def prepare_next(self, run: AutomationRun, stage: int, slots: RunSlots) -> None:
        """In the hop of the step that completed ``stage``, blocking: the lease as the next stage
        wants it, renewed only when due or when it wants another number of slots (the flow
        renews every RENEW_SECONDS anyway). After the last stage the run completed, and its
        lease went back in that transaction."""
        following = next_stage(stage)
        if following is None:
            slots.given_back()
            return
        entry = STAGE_WORK[following]
        if not entry.ai_method or run.config["between_stage_delay"] > 0:
            return  # no calls to lease for, or the lease goes back for the delay anyway
        slots.want(_slots_wanted(entry, run.config))
        if slots.renew_in <= 0:
            slots.renew()

    async def _settle_abandoned(self, run: AutomationRun, stage: int, window: Window) -> None:
        """On a cancel: the calls that did return are recorded (or at least charged), once."""
        window.harvest()
        window.abandon()
        groups = [g for g in window.take_all() if g.outcome.processed or g.outcome.failures or g.outcome.credits]
        if not groups:
            return

        def mutate(r: AutomationRun) -> None:
            for group in groups:
                record_group(r, stage, group, self.clock())

        try:
            # Fresh: the cancelled step's hop may still be committing on its own thread.
            await asyncio.shield(self._commit(
                run.run_id, mutate, lambda r: [w for g in groups for w in group_writes(self.planner, r, stage, g)],
                fresh=True))
        except (InvalidTransition, IntegrityError):
            await asyncio.shield(self.charge(run, stage, groups))

    async def charge(self, run: AutomationRun, stage: int, groups: list[Group]) -> None:
        """Debit the credits of groups whose outputs were thrown away, keyed as their batch would be."""
        for group in groups:
            if group.outcome.credits:
                debit = self.planner.debit(run.account_id, run.run_id, stage, group.outcome.credits,
                                           batch_key(run.run_id, group.batch_id))
                try:
                    await asyncio.to_thread(self.planner.execute, [debit])
                except IntegrityError:
                    log.warning("batch %s of run %s: its %d credits were charged already, or the balance "
                                "could not cover them", group.batch_id, run.run_id, group.outcome.credits)

    def context(self, run: AutomationRun, entry: StageWork, run_gate: RunGate,
                read_already: Callable[[], list[Item] | None] = lambda: None) -> StageContext:
        """``read_already``: the site's clusters as the step that admitted the batch read them,
        if it did; else they are read when the work asks."""
        ask = capped(getattr(self.ai, entry.ai_method), self.gate, run_gate) if entry.ai_method else None

        async def existing_clusters() -> list[Item]:
            clusters = read_already()
            if clusters is not None:
                return clusters
            return await asyncio.to_thread(self.planner.existing_clusters, run.site_id)

        return StageContext(run.run_id, run.site_id, entry.number, self.planner, ask, existing_clusters)

    async def pause_for_credits(self, run_id: str) -> None:
        try:
            await self._commit(run_id, lambda r: r.pause("insufficient_credits", self.clock()))
        except InvalidTransition:
            pass  # a user's pause or cancel got there first

    async def _commit(self, run_id: str, mutate: Callable[[AutomationRun], None],
                      writes: Callable[[AutomationRun], list[Any]] = lambda run: [], *, fresh: bool = False) -> None:
        await asyncio.to_thread(self.runs.commit, run_id, mutate, writes, fresh=fresh)


def _slots_wanted(entry: StageWork, config: dict[str, Any]) -> int:
    return 1 if entry.stage.per_batch else int(config.get("ai_concurrency", DEFAULT_AI_CONCURRENCY))


class _StageFlow:
    """Starts a stage and keeps its window full until it runs out of items or the run stops."""

    def __init__(self, worker: RunWorker, run: AutomationRun, entry: StageWork, stop: StopFlag, window: Window,
                 lease: RunSlots, before: _StageFlow | None = None) -> None:
        self.worker, self.run_, self.entry, self.stop, self.window = worker, run, entry, stop, window
        self.lease = lease
        self.slots = lease if entry.ai_method else None  # what sizes the window, for a stage with calls
        self.size = entry.stage.batch_size(run.config)
        # One call per batch (clustering merges into what came before) or a delay between
        # batches: batches go one at a time, each recorded before the next is loaded.
        self.paced = run.config["within_stage_delay"] > 0  # a pause between batches
        self.lockstep = entry.stage.per_batch or self.paced
        self.gate = RunGate(lambda: stop.requested)
        # The paces of the stage before, if it ran just now: a step's hop costs the same from
        # stage to stage, and the calls' pace is a better first guess than none (which admits
        # a slot's worth, then a step more once they return).
        self.step_seconds = before.step_seconds if before is not None else Pace()
        if before is not None:
            self.gate.call_seconds = before.gate.call_seconds
        self.clusters: list[Item] | None = None  # read by the step that admitted the batch
        self.context = worker.context(run, entry, self.gate, self._clusters_read)
        self.tag = uuid4().hex[:12]  # this worker's batches: ``tag/batch``
        self.drained = self.short = self.refused = self.started = False
        self.announced = 0
        self.taken: tuple[Step, StepResult] | None = None  # its first step, if taken already
        self.following: _StageFlow | None = None  # the next stage, started in the hop completing this one

    async def run(self) -> bool:
        window, stop = self.window, self.stop
        if self.taken is None and not stop.requested:
            self.taken = await self._hop(self._take_first)
        if self.taken is not None:
            # Taken in a hop of its own or in the one that completed the stage before.
            self.gate.resize(await self._width())
            step, result = self.taken
            self.taken = None
            if await self._took(step, result):
                return True
        while True:
            width = await self._width()
            self.gate.resize(width)
            if stop.requested:
                self.gate.wake()  # calls still waiting for a slot give up: their items stay pending
            halted = stop.requested or self.short or self.refused
            room = 0 if halted or self.drained else self._room(width)
            finished = window.finished()
            # The first step starts the stage, even with no slot to admit anything yet.
            if room > 0 or finished or not (halted or self.started) or (
                    self.drained and not window.in_flight and not halted):
                preloaded = None
                if room > 0 and self.paced and self.announced:
                    preloaded = await self._next_after_delay(room, window.busy())
                    if preloaded is None:
                        continue  # stopped during the delay
                if await self._step(finished, room, preloaded, halted):
                    return True
                continue
            if not window.in_flight:
                if stop.requested or self.refused:
                    return False
                if self.short:
                    await self.worker.pause_for_credits(self.run_.run_id)
                    return False
                await stop.sleep(self.slots.renew_in if self.slots is not None else 0.05)  # no slot free yet
                continue
            # Wakes to renew the lease even while every call in flight is slow.
            timeout = RENEW_SECONDS if self.slots is not None else None
            done, _ = await asyncio.wait(window.tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                window.returned(task)

    def _room(self, width: int) -> int:
        """How many items to admit now. A batch at a time, each recorded before the next is
        loaded, in lockstep (clustering reads the clusters of the batch before); without AI
        calls, a batch once the one before returned. Otherwise the run's slots plus a queue
        (``lookahead``), refilled once a slot's worth of it has started."""
        if self.lockstep:
            groups = self.window.groups.values()
            if any(not g.done for g in groups) or (groups and self.paced):
                return 0  # its pause comes after the batch before is recorded, not before
            return self.size
        if self.slots is None:
            # No AI calls: a batch is one unit of work (one task, however many items), done at
            # once; the window's count of units in flight is not a count of items here.
            return 0 if self.window.in_flight else self.size
        room = width + self._lookahead(width) - self.window.in_flight
        return room if room >= width else 0

    def _lookahead(self, width: int) -> int:
        return queue_length(width, self.step_seconds.seconds, self.gate.call_seconds.seconds)

    async def _next_after_delay(self, room: int, skip: set[str]) -> list[Item] | None:
        """The next batch, loaded before the pause between batches (none: the stage is drained
        and no pause is owed); None when the run stopped during the pause."""
        run = self.run_
        items = await asyncio.to_thread(self.worker.planner.load_batch, run.site_id, run.run_id,
                                        self.entry.number, room, skip)
        if items:
            await self.stop.sleep(run.config["within_stage_delay"])
            if self.stop.requested:
                return None
        return items

    async def _step(self, finished: list[Group], room: int, preloaded: list[Item] | None, halted: bool) -> bool:
        """Records ``finished``, admits up to ``room`` items and starts their calls; True once the
        stage completed. The finished groups stay in the window until recorded: a cancel
        landing meanwhile still accounts for them."""
        step = self._next_step(finished, room, preloaded, halted, self.gate.limit)
        return await self._took(step, await self._hop(self._take, step))

    async def _hop(self, blocking: Callable[..., T], *args: Any) -> T:
        """A step in a worker thread, its time counted into the pace of the stage's steps."""
        started = time.monotonic()
        result = await asyncio.to_thread(blocking, *args)
        self.step_seconds.add(time.monotonic() - started)
        return result

    async def _width(self) -> int:
        """The run's slots for the stage's calls (renewing the lease when due); a batch's
        size for a stage without calls."""
        return await self.slots.width() if self.slots is not None else self.size

    def _next_step(self, finished: list[Group], room: int, preloaded: list[Item] | None, halted: bool,
                   width: int) -> Step:
        # Unrecorded items, finished or not, are still pending: never loaded again.
        return Step(finished, want=room, skip=self.window.busy(), preloaded=preloaded, drained=self.drained,
                    may_complete=not halted and not self.window.in_flight,
                    batch_id=f"{self.tag}/{uuid4().hex}", checks_credits=self.entry.ai_method is not None,
                    # A batch in lockstep is a call's (or a pause's) worth: whole or not at all.
                    at_least=0 if self.lockstep else width, record_first=self.lockstep,
                    starting=not self.started,
                    ending=self.lease.give_back_with() if self.entry.number == LAST_STAGE else ())

    async def _took(self, step: Step, result: StepResult) -> bool:
        """After a step's hop: its groups closed, its items started. True once the stage completed."""
        finished = step.finished
        self.started = True
        self.window.close(finished)
        self.drained = self.drained or result.drained
        self.short = self.short or result.short
        self.refused = self.refused or result.refused
        if result.unrecorded:
            await self.worker.charge(self.run_, self.entry.number, result.unrecorded)
        if result.admitted:
            self.announced += 1
            self.clusters = result.clusters
            self._start(step.batch_id, result.admitted)
        return result.completed

    def _clusters_read(self) -> list[Item] | None:
        """Once: the batch's call takes them, a later batch gets those its own step reads."""
        clusters, self.clusters = self.clusters, None
        return clusters

    def _take(self, step: Step) -> StepResult:
        result = self.worker.steps.take(self.run_, self.entry.number, step)
        if result.completed:
            self.worker.prepare_next(self.run_, self.entry.number, self.lease)
            self.following = self._start_following()
        return result

    def _start_following(self) -> _StageFlow | None:
        """In the hop that completed this stage: the next stage's flow, its first step taken
        (its own transaction, after this one, whose outputs its count must see), so that the
        run goes on without a hop of its own. None when the run completed, stops, or waits
        out a ``between_stage_delay`` first (that path starts the stage as any worker would)."""
        following = next_stage(self.entry.number)
        if following is None or self.stop.requested or self.run_.config["between_stage_delay"] > 0:
            return None
        flow = _StageFlow(self.worker, self.run_, STAGE_WORK[following], self.stop, Window(), self.lease, self)
        flow.taken = flow._take_first()
        return flow

    def _take_first(self) -> tuple[Step, StepResult]:
        """Blocking: the stage's first step, sized by the lease, renewed first if due (in this
        hop, not one of its own; after prepare_next it is not), as width() would have."""
        if self.slots is not None and self.lease.renew_in <= 0:
            self.lease.renew()
        width = self.lease.granted if self.slots is not None else self.size
        step = self._next_step([], self._room(width), None, False, width)
        return step, self._take(step)

    def _start(self, batch_id: str, items: list[Item]) -> None:
        entry = self.entry
        # Work without AI calls is done for the group at once; AI work item by item.
        units = [[item] for item in items] if entry.ai_method and not entry.stage.per_batch else [items]
        self.window.open(batch_id, units)
        for unit in units:
            self.window.add(asyncio.create_task(entry.work(self.context, unit)), batch_id)
