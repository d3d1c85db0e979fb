"""Carries one run through its stages, batch by batch.

Every batch is: check for a stop, check credits, record ``BatchStarted``, do the
AI work, then commit the outputs, the debit and the run's events in one
transaction. A crash anywhere loses at most the uncommitted batch, which the
next owner of the run does again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable
from uuid import UUID, uuid4

from services.pipeline.application.ai_port import AIProvider
from services.pipeline.application.batch_bound import batch_bound
from services.pipeline.application.commands import Clock, CommandHandlers, utcnow
from services.pipeline.application.ports import Item, Planner, RunStore, SideWrite
from services.pipeline.application.retry import retry_on_conflict
from services.pipeline.application.stage_work import STAGE_WORK, BatchOutcome, StageContext, StageWork
from services.pipeline.domain.errors import InsufficientCredits, InvalidTransition
from services.pipeline.domain.run import AutomationRun
from shared.stages import LAST_STAGE

log = logging.getLogger(__name__)
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
    def __init__(self, store: RunStore, handlers: CommandHandlers, ai: AIProvider, clock: Clock = utcnow) -> None:
        self.store = store
        self.handlers = handlers
        self.planner: Planner = handlers.planner
        self.ai = ai
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
        run_id, site_id = run.run_id, run.site_id
        total = await self._read(self.planner.count_pending, site_id, run_id, stage)
        await self._commit(run_id, lambda r: r.start_stage(stage, total, self.clock()))
        entry = STAGE_WORK[stage]
        size = entry.stage.batch_size(run.config)
        context = self._context(run, entry)
        first = True
        while not stop.requested:
            items = await self._read(self.planner.load_batch, site_id, run_id, stage, size)
            if not items:
                await self._commit(run_id, lambda r: r.complete_stage(stage, self.clock()))
                return True
            if not first:
                await stop.sleep(run.config["within_stage_delay"])
                if stop.requested:
                    return False
            first = False
            # Only AI calls cost credits, so only stages that make them can run short.
            if entry.ai_method and not await self._can_afford(run, stage, items):
                await self._pause_for_credits(run_id)
                return False
            listed = [{"id": i["id"], "title": str(i.get("title", ""))} for i in items]
            batch_id = uuid4().hex
            await self._commit(run_id, lambda r: r.start_batch(stage, listed, batch_id, self.clock()))
            outcome = await entry.work(context, items)
            try:
                await self._commit(run_id, lambda r: _record_batch(r, batch_id, stage, outcome, self.clock()),
                                   lambda r: _batch_writes(self.planner, r, batch_id, stage, outcome))
            except InsufficientCredits:
                await self._pause_for_credits(run_id)
                return False
        return False

    def _context(self, run: AutomationRun, entry: StageWork) -> StageContext:
        ask = getattr(self.ai, entry.ai_method) if entry.ai_method else None
        return StageContext(run.run_id, run.site_id, entry.number, self.planner, ask,
                            lambda: self._read(self.planner.existing_clusters, run.site_id))

    async def _can_afford(self, run: AutomationRun, stage: int, items: list[Item]) -> bool:
        """Whether what the run may still spend covers the most this batch can cost."""
        available = await self._read(self.planner.available_credits, run.account_id, run.run_id)
        return available >= await self._read(batch_bound, self.planner, run.site_id, stage, items)

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
        writes.append(planner.debit(run.account_id, run.run_id, stage, outcome.credits, f"{run.run_id}:batch:{batch_id}"))
    return writes
