"""Carries one run through its stages, its items flowing through a window of AI calls.

Each refill of the window checks for a stop and for credits, records ``BatchStarted``
for the items it admits (a group), and starts their AI calls. A group whose calls all
returned commits its outputs, its debit and the run's events in one transaction, with
any other group finished by then. A crash anywhere loses at most the unrecorded groups,
which the next owner of the run does again (its first batch closes the old ones).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from services.pipeline.application.ai_port import AIProvider
from services.pipeline.application.ai_slots import RENEW_SECONDS, RunSlots, capped
from services.pipeline.application.batch_bound import batch_bound
from services.pipeline.application.commands import Clock, CommandHandlers, utcnow
from services.pipeline.application.ports import AccountSlots, Item, Planner, RunStore, SideWrite
from services.pipeline.application.retry import retry_on_conflict
from services.pipeline.application.stage_window import Group, Window
from services.pipeline.application.stage_work import STAGE_WORK, BatchOutcome, StageContext, StageWork
from services.pipeline.domain.errors import InsufficientCredits, InvalidTransition
from services.pipeline.domain.run import AutomationRun
from shared.stages import LAST_STAGE

log = logging.getLogger(__name__)
DEFAULT_AI_CONCURRENCY = 8  # runs admitted before ai_concurrency existed
MAX_REFUSALS = 5  # consecutive refused writes before the run is given up as broken


class StopFlag:
    """Set by a pause, a cancel or a lost partition; wakes any delay at once."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self._event = asyncio.Event()

    def set(self, reason: str) -> None:
        self.reason = reason
        self._event.set()

    def clear(self) -> None:
        self.reason = None
        self._event.clear()

    @property
    def requested(self) -> bool:
        return self.reason is not None

    async def sleep(self, seconds: float) -> None:
        if seconds > 0 and not self.requested:
            try:
                await asyncio.wait_for(self._event.wait(), timeout=seconds)
            except asyncio.TimeoutError:
                pass


class RunWorker:
    def __init__(self, store: RunStore, handlers: CommandHandlers, ai: AIProvider, slots: AccountSlots,
                 max_in_flight: int = 64, clock: Clock = utcnow) -> None:
        self.store = store
        self.handlers = handlers
        self.planner: Planner = handlers.planner
        self.ai = ai
        self.slots = slots
        self.gate = asyncio.Semaphore(max_in_flight)  # the process's cap, AI_MAX_IN_FLIGHT
        self.clock = clock

    async def execute(self, run_id: str, stop: StopFlag) -> None:
        refused = 0
        while not stop.requested:
            run = await self._load(run_id)
            if run.status != "running":
                return
            try:
                if not await self._advance(run, stop):
                    return
                refused = 0
            except InvalidTransition:
                # The run changed between our read and our write: a pause or cancel was
                # recorded, or another worker recorded this batch. Look again, don't fail it.
                refused += 1
                if refused > MAX_REFUSALS:
                    raise
                await stop.sleep(0.05 * refused)

    async def _advance(self, run: AutomationRun, stop: StopFlag) -> bool:
        """One step: finish the run, or carry its current stage through. False once stopped."""
        stage = run.current_stage
        if stage == LAST_STAGE and run.stage_results.get(str(stage), {}).get("completed_at"):
            await self._commit(run.run_id, lambda r: r.complete(self.clock()))
            return False
        if str(stage) not in run.stage_results and stage > 1:
            await stop.sleep(run.config["between_stage_delay"])
            if stop.requested:
                return False
        return await self._run_stage(run, stage, stop)

    async def fail(self, run_id: str, error: Exception) -> None:
        message = f"{type(error).__name__}: {error}"[:500]
        try:
            await self._commit(run_id, lambda r: r.fail(message, self.clock()))
        except InvalidTransition:
            pass  # it had ended already

    async def _run_stage(self, run: AutomationRun, stage: int, stop: StopFlag) -> bool:
        """Returns True when the stage completed, False when the run stopped in it."""
        total = await self._read(self.planner.count_pending, run.site_id, run.run_id, stage)
        await self._commit(run.run_id, lambda r: r.start_stage(stage, total, self.clock()))
        entry = STAGE_WORK[stage]
        wanted = 1 if entry.stage.per_batch else int(run.config.get("ai_concurrency", DEFAULT_AI_CONCURRENCY))
        slots = RunSlots(self.slots, run.account_id, run.run_id, wanted) if entry.ai_method else None
        window = Window()
        try:
            return await self._flow(run, entry, stop, window, slots)
        except asyncio.CancelledError:
            await self._settle_abandoned(run, stage, window)
            raise
        finally:
            window.abandon()
            if slots is not None:
                await asyncio.shield(slots.release())

    async def _flow(self, run: AutomationRun, entry: StageWork, stop: StopFlag, window: Window,
                    slots: RunSlots | None) -> bool:
        """Keeps the window full until the stage runs out of items or the run stops."""
        stage, worker = entry.number, uuid4().hex[:12]
        size = entry.stage.batch_size(run.config)
        # One call per batch (clustering merges into what came before) or a delay between
        # batches: batches go one at a time, as before. Otherwise items flow through the window.
        lockstep = entry.stage.per_batch or run.config["within_stage_delay"] > 0
        context = self._context(run, entry)
        exhausted = short = refused = False
        announced = 0
        while True:
            width = await slots.width() if slots is not None else size
            room = 0 if stop.requested or short or exhausted or refused else width - window.in_flight
            if lockstep and window.groups:
                room = 0  # the batch before is recorded first: clustering reads its clusters
            if room > 0:
                wanted = size if lockstep else room
                busy = window.busy()  # still pending until recorded: not loaded again
                items = await self._read(self.planner.load_batch, run.site_id, run.run_id, stage, wanted, busy)
                if not items:
                    exhausted = not busy
                elif lockstep and announced and not await self._delay(run, stop):
                    continue
                elif entry.ai_method and not await self._can_afford(run, stage, items, len(busy)):
                    short = True
                else:
                    try:
                        await self._announce(run, entry, context, window, f"{worker}/{uuid4().hex}", items)
                    except InvalidTransition:
                        # Paused or ended meanwhile: what is in flight still finishes and is recorded.
                        refused = True
                    announced += 1
                    continue
            # Recorded after the refill: freed slots get their next calls before this commit.
            finished = window.take_done()
            if finished and not await self._record(run, stage, finished):
                short = True
            if not window.in_flight:
                if finished:
                    continue  # look for more now that these are recorded
                if stop.requested or refused:
                    return False
                if short:
                    await self._pause_for_credits(run.run_id)
                    return False
                if exhausted:
                    await self._commit(run.run_id, lambda r: r.complete_stage(stage, self.clock()))
                    return True
                await stop.sleep(slots.renew_in if slots is not None else 0.05)  # no slot free yet
                continue
            # Wakes to renew the lease even while every call in flight is slow.
            timeout = RENEW_SECONDS if slots is not None else None
            done, _ = await asyncio.wait(window.tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                window.returned(task)

    async def _delay(self, run: AutomationRun, stop: StopFlag) -> bool:
        """The pause between batches; False when the run stopped during it."""
        await stop.sleep(run.config["within_stage_delay"])
        return not stop.requested

    async def _announce(self, run: AutomationRun, entry: StageWork, context: StageContext, window: Window,
                        batch_id: str, items: list[Item]) -> None:
        listed = [{"id": i["id"], "title": str(i.get("title", ""))} for i in items]
        await self._commit(run.run_id, lambda r: r.start_batch(entry.number, listed, batch_id, self.clock()))
        # Work without AI calls is done for the group at once; AI work item by item.
        units = [[item] for item in items] if entry.ai_method and not entry.stage.per_batch else [items]
        window.open(batch_id, units)
        for unit in units:
            window.add(asyncio.create_task(entry.work(context, unit)), batch_id)

    async def _record(self, run: AutomationRun, stage: int, groups: list[Group]) -> bool:
        """Record finished groups in one transaction; False when the balance could not cover them."""
        def mutate(r: AutomationRun) -> None:
            for group in groups:
                _record_batch(r, group.batch_id, stage, group.outcome, self.clock())

        def writes(r: AutomationRun) -> list[SideWrite]:
            return [w for g in groups for w in _batch_writes(self.planner, r, g.batch_id, stage, g.outcome)]

        try:
            await self._commit(run.run_id, mutate, writes)
            return True
        except InsufficientCredits:
            # The outputs are rolled back, but the AI calls were made: they are charged still.
            await self._charge(run, stage, groups)
            return False

    async def _settle_abandoned(self, run: AutomationRun, stage: int, window: Window) -> None:
        """On a cancel: the calls that did return are recorded (or at least charged), once."""
        window.harvest()
        window.abandon()
        groups = [g for g in window.take_all() if g.outcome.processed or g.outcome.failures or g.outcome.credits]
        if not groups:
            return
        try:
            await asyncio.shield(self._record(run, stage, groups))
        except (InvalidTransition, IntegrityError):
            await asyncio.shield(self._charge(run, stage, groups))

    async def _charge(self, run: AutomationRun, stage: int, groups: list[Group]) -> None:
        """Debit the credits of groups whose outputs were thrown away, keyed as their batch would be."""
        for group in groups:
            if group.outcome.credits:
                debit = self.planner.debit(run.account_id, run.run_id, stage, group.outcome.credits,
                                           _batch_key(run.run_id, group.batch_id))
                try:
                    await self._read(self.planner.execute, [debit])
                except IntegrityError:
                    log.warning("batch %s of run %s: its %d credits were charged already, or the balance "
                                "could not cover them", group.batch_id, run.run_id, group.outcome.credits)

    def _context(self, run: AutomationRun, entry: StageWork) -> StageContext:
        ask = capped(getattr(self.ai, entry.ai_method), self.gate) if entry.ai_method else None
        return StageContext(run.run_id, run.site_id, entry.number, self.planner, ask,
                            lambda: self._read(self.planner.existing_clusters, run.site_id))

    async def _can_afford(self, run: AutomationRun, stage: int, items: list[Item], in_flight: int) -> bool:
        """Whether what the run may still spend covers the most these items can cost, together
        with the calls still in flight (charged only once recorded), bounded at the same rate."""
        def read() -> tuple[int, int]:
            return (self.planner.available_credits(run.account_id, run.run_id),
                    batch_bound(self.planner, run.site_id, stage, items))

        available, bound = await asyncio.to_thread(read)
        return available >= -(-bound * (len(items) + in_flight) // len(items))

    async def _pause_for_credits(self, run_id: str) -> None:
        try:
            await self._commit(run_id, lambda r: r.pause("insufficient_credits", self.clock()))
        except InvalidTransition:
            pass  # a user's pause or cancel got there first

    async def _load(self, run_id: str) -> AutomationRun:
        return await asyncio.to_thread(self.store.get, UUID(run_id))

    async def _read(self, query: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(query, *args)

    async def _commit(
        self,
        run_id: str,
        mutate: Callable[[AutomationRun], None],
        writes: Callable[[AutomationRun], list[SideWrite]] = lambda run: [],
    ) -> None:
        def attempt() -> None:
            run = self.store.get(UUID(run_id))
            status = run.status
            mutate(run)
            extra = writes(run)
            if run.status != status:
                aggregates, extra = self.handlers.finish(run, extra)
            else:
                aggregates = [run]
            self.store.save_with(*aggregates, side_writes=extra)

        # A conflict that outlasts the retries goes to the supervisor, which tries again later.
        await asyncio.to_thread(retry_on_conflict, attempt)


def _record_batch(run: AutomationRun, batch_id: str, stage: int, outcome: BatchOutcome, now: Any) -> None:
    run.process_batch(
        batch_id=batch_id, stage=stage, processed=outcome.processed, failures=outcome.failures,
        outputs_created=outcome.outputs_created, credits=outcome.credits, now=now,
        ready_for_review=outcome.ready_for_review,
    )


def _batch_writes(planner: Planner, run: AutomationRun, batch_id: str, stage: int,
                  outcome: BatchOutcome) -> list[SideWrite]:
    writes = list(outcome.writes)
    if outcome.credits:
        # Keyed by the batch: the same batch can never be debited twice.
        writes.append(planner.debit(run.account_id, run.run_id, stage, outcome.credits, _batch_key(run.run_id, batch_id)))
    return writes


def _batch_key(run_id: str, batch_id: str) -> str:
    return f"{run_id}:batch:{batch_id}"
