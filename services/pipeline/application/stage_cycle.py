"""One step of a stage's flow, done in one thread hop: start the stage (its first step),
record the groups whose calls all returned, admit the next items, and, once nothing is left,
complete the stage (and the run, after the last stage).

Reads (the next items, what the run may still spend) go out together, in one round trip; the writes
share one transaction: ``StageStarted`` in the stage's first step, the finished groups'
outputs, debits and events, ``BatchStarted`` for the admitted items and, at the end,
``StageCompleted`` (and ``RunCompleted``). One transaction per step, however many items it
records and admits (two for a step of clustering that records before it loads).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable, Collection, Sequence

from services.pipeline.application.batch_bound import batch_bound, sends_existing_clusters
from services.pipeline.application.held_runs import HeldRuns
from services.pipeline.application.ports import Item, Planner, SideWrite
from services.pipeline.application.stage_window import Group
from services.pipeline.application.stage_work import BatchOutcome
from services.pipeline.domain.errors import InsufficientCredits, InvalidTransition
from services.pipeline.domain.run import AutomationRun
from shared.stages import LAST_STAGE


@dataclass
class Step:
    """What a step is asked to do."""

    finished: list[Group]  # to record
    want: int = 0  # items to admit at most
    skip: Collection[str] = ()  # items not recorded yet, finished or not: still pending
    preloaded: list[Item] | None = None  # items loaded already (a batch after its delay)
    drained: bool = False  # an earlier step found the stage drained
    may_complete: bool = False  # nothing else in flight, no stop: the stage completes once drained
    batch_id: str = ""
    checks_credits: bool = True  # the stage makes AI calls
    at_least: int = 0  # when the balance can't cover all the items asked for, try this many
    # Record the finished groups in a transaction of their own before loading: the next batch's
    # bound then counts what they created (clustering sends the clusters made so far).
    record_first: bool = False
    # The stage's first step: ``StageStarted`` leads its transaction, counting the stage's
    # pending items (a first step has nothing to record, nothing in flight).
    starting: bool = False
    ending: Sequence[SideWrite] = ()  # writes that go with the run's completion, after the last stage


@dataclass
class StepResult:
    admitted: list[Item] = field(default_factory=list)
    drained: bool = False  # fewer items were pending than asked for, all admitted: none will follow
    short: bool = False  # the balance can't cover the admitted items' calls, or the recorded ones
    refused: bool = False  # the run no longer runs: nothing admitted
    completed: bool = False  # the stage completed (after the last stage, the run too)
    unrecorded: list[Group] = field(default_factory=list)  # outputs rolled back: to be charged still
    # The site's clusters as the admitted batch's call will send them (clustering): read once,
    # for the batch's bound and for its call, which would read the same rows again in a hop
    # of its own (batches go one at a time, each recorded before the next is loaded).
    clusters: list[Item] | None = None


class StageSteps:
    def __init__(self, planner: Planner, runs: HeldRuns, clock: Callable[[], datetime]) -> None:
        self.planner = planner
        self.runs = runs
        self.clock = clock

    def take(self, run: AutomationRun, stage: int, step: Step) -> StepResult:
        result = StepResult()
        if step.record_first and step.finished and step.want:
            self._save(run.run_id, stage, replace(step, want=0, may_complete=False), [], False, result)
            if result.short or result.refused:
                return result
            recorded = {i for g in step.finished for i in g.item_ids}
            step = replace(step, finished=[], skip=[i for i in step.skip if i not in recorded])
        loaded, items = step.preloaded or [], step.preloaded or []
        # Were more pending than asked for? A load asks for one more item than it may admit, so
        # that the step whose load empties the stage knows it: the step after it records the
        # last groups and completes the stage in one transaction, with no load of its own (a
        # load finding nothing, in lockstep a transaction of its own before it). A preloaded
        # batch was asked for without one more: only a short one tells. A step that asks for
        # nothing learns nothing: more may follow.
        more = len(loaded) >= step.want
        total = 0
        if step.want or step.starting:
            with self.planner.reading():
                if step.want:
                    # The items, the clusters their bound counts and the balance, in one trip:
                    # the latter two are read even when no item turns out to be pending.
                    reads = self.planner.step_reads(
                        run.site_id, run.run_id, run.account_id, stage,
                        step.want + 1 if step.preloaded is None else 0, step.skip,
                        clusters=sends_existing_clusters(stage), credits=step.checks_credits)
                    if step.preloaded is None:
                        loaded, more = reads.items[:step.want], len(reads.items) > step.want
                    result.clusters = reads.clusters if loaded else None
                    items = self._affordable(run, stage, step, loaded, result.clusters, reads.available)
                if step.starting:
                    total = self._total(run, stage, step, loaded, more)
        # No more were pending than loaded, and all of them admitted: none will follow. Those
        # the balance left out are still pending.
        result.drained = not more and len(items) == len(loaded)
        result.short = bool(loaded) and not items
        completing = step.may_complete and not items and not result.short and (result.drained or step.drained)
        if step.finished or items or completing or step.starting:
            self._save(run.run_id, stage, step, items, completing, result, total)
        return result

    def _save(self, run_id: str, stage: int, step: Step, items: list[Item], completing: bool,
              result: StepResult, total: int = 0) -> None:
        try:
            self._write(run_id, stage, step, items, completing, result, total)
        except InsufficientCredits:
            # The outputs are rolled back with the events; the calls were made, so they are charged.
            result.admitted, result.completed, result.short = [], False, True
            result.unrecorded = step.finished

    def _write(self, run_id: str, stage: int, step: Step, items: list[Item], completing: bool,
               result: StepResult, total: int) -> None:
        now = self.clock()
        listed = [{"id": i["id"], "title": str(i.get("title", ""))} for i in items]

        def mutate(r: AutomationRun) -> None:
            result.admitted, result.completed, result.refused = [], False, False  # a retried attempt
            if step.starting:
                try:
                    r.start_stage(stage, total, now)
                except InvalidTransition:
                    result.refused = True  # paused or ended meanwhile: no stage starts
                    return
            for group in step.finished:
                record_group(r, stage, group, now)
            try:
                if items:
                    r.start_batch(stage, listed, step.batch_id, now)
                    result.admitted = items
                elif completing:
                    r.complete_stage(stage, now)
                    if stage == LAST_STAGE:
                        r.complete(now)
                    result.completed = True
            except InvalidTransition:
                # Paused or ended meanwhile: the finished groups are recorded all the same.
                result.refused = True

        def writes(r: AutomationRun) -> list[SideWrite]:
            ending = list(step.ending) if result.completed and stage == LAST_STAGE else []
            return [w for g in step.finished for w in group_writes(self.planner, r, stage, g)] + ending

        self.runs.commit(run_id, mutate, writes)

    def _total(self, run: AutomationRun, stage: int, step: Step, loaded: list[Item], more: bool) -> int:
        """The stage's pending items as it starts: a load that found no more than it took,
        skipping nothing, saw them all; otherwise they are counted."""
        if step.preloaded is None and not step.skip and not more:
            return len(loaded)
        return self.planner.count_pending(run.site_id, run.run_id, stage)

    def _affordable(self, run: AutomationRun, stage: int, step: Step, items: list[Item],
                    clusters: list[Item] | None, available: int) -> list[Item]:
        """The items the run can afford: all of them, else the first ``at_least``, else none.
        Affordable: what the run may still spend (``available``) covers the most they can
        cost, together with the items not recorded yet (charged only once recorded), bounded
        at the same rate."""
        if not items or not step.checks_credits:
            return items
        for candidate in (items, items[:step.at_least]) if 0 < step.at_least < len(items) else (items,):
            bound = batch_bound(self.planner, run.site_id, stage, candidate, clusters)
            if available >= -(-bound * (len(candidate) + len(step.skip)) // len(candidate)):
                return candidate
        return []


def record_group(run: AutomationRun, stage: int, group: Group, now: datetime) -> None:
    outcome: BatchOutcome = group.outcome
    run.process_batch(
        batch_id=group.batch_id, stage=stage, processed=outcome.processed, failures=outcome.failures,
        outputs_created=outcome.outputs_created, credits=outcome.credits, now=now,
        ready_for_review=outcome.ready_for_review,
    )


def group_writes(planner: Planner, run: AutomationRun, stage: int, group: Group) -> list[SideWrite]:
    writes = list(group.outcome.writes)
    if group.outcome.credits:
        # Keyed by the batch: the same batch can never be debited twice.
        writes.append(planner.debit(run.account_id, run.run_id, stage, group.outcome.credits,
                                    batch_key(run.run_id, group.batch_id)))
    return writes


def batch_key(run_id: str, batch_id: str) -> str:
    return f"{run_id}:batch:{batch_id}"
