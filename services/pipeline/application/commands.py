"""Use cases for the four commands. Synchronous: callers run them in a worker thread.

Each decision is written to ``command_log`` in the same transaction as the events
it causes, so a redelivered command finds its decision and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Sequence
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from services.pipeline.application.batch_bound import next_batch_bound
from services.pipeline.application.ports import Planner, RunStore, SideWrite
from services.pipeline.application.retry import retry_on_conflict
from services.pipeline.domain.errors import (
    DomainError, ForeignRun, InsufficientCredits, InvalidTransition, RunActive, UnknownRun, UnknownSite,
)
from services.pipeline.domain.run import AutomationRun
from services.pipeline.domain.site_slot import SiteSlot, slot_id
from shared.credits import quote
from shared.events.commands import CancelRun, Command, Outcome, PauseRun, ResumeRun, StartRun
from shared.stages import BATCH_SIZE_KEYS

Clock = Callable[[], datetime]
# What a run keeps of the site's config, fixed for its whole life.
CONFIG_KEYS = (*BATCH_SIZE_KEYS, "within_stage_delay", "between_stage_delay", "ai_concurrency")
# Refusals that mean the command should never have been sent: also set aside as dead letters.
SET_ASIDE = frozenset({ForeignRun.code})


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    error_code: str | None = None
    message: str = ""

    @property
    def set_aside(self) -> bool:
        return self.error_code in SET_ASIDE


class CommandHandlers:
    def __init__(self, store: RunStore, planner: Planner, clock: Clock = utcnow) -> None:
        self.store = store
        self.planner = planner
        self.clock = clock
        # Given each run as its admission saved it, for its worker to start from (RunWorker
        # holds it) instead of reading it back in a hop of its own.
        self.admitted: Callable[[AutomationRun], None] = lambda run: None

    def handle(self, command: Command) -> Decision:
        if self._decided(command):
            return Decision(Outcome.DUPLICATE)
        try:
            return self._decide(command)
        except DomainError as error:
            details = _details(error)
            self._reject(command, error.code, details)
            return Decision(Outcome.REJECTED, error.code, str(error))
        except IntegrityError:
            if self._decided(command):  # decided meanwhile: a redelivery, or withdrawn by its sender
                return Decision(Outcome.DUPLICATE)
            raise

    def screen(self, command: PauseRun | CancelRun) -> Decision | None:
        """What a pause or cancel must know before the supervisor acts on it (a cancel aborts
        AI calls in flight before it is decided): a redelivery of one decided already acts on
        nothing, and one naming another account's run is refused. None: act, then decide."""
        if self._decided(command):
            return Decision(Outcome.DUPLICATE)
        try:
            self._require_owner(self.store.get(UUID(command.run_id)), command)
        except AggregateNotFoundError:
            return None  # decided as an unknown run by the rules
        except ForeignRun as error:
            self._reject(command, error.code, {})
            return Decision(Outcome.REJECTED, error.code, str(error))
        return None

    def refuse(self, command: Command, code: str) -> None:
        """Record a refusal decided outside the domain rules (a command that can't be handled)."""
        self._reject(command, code, {})

    def _decided(self, command: Command) -> bool:
        return self.planner.command_outcome(command.command_id) is not None

    def _decide(self, command: Command) -> Decision:
        if isinstance(command, StartRun):
            return retry_on_conflict(lambda: self._start(command))
        if isinstance(command, PauseRun):
            return self._control(command, lambda run, now: run.pause("user", now))
        if isinstance(command, ResumeRun):
            return self._control(command, self._resume)
        if isinstance(command, CancelRun):
            return self._control(command, lambda run, now: run.cancel("user", now))
        raise TypeError(f"unknown command {command!r}")

    def _start(self, command: StartRun) -> Decision:
        # The slot first: a site with an active run is refused without counting pending items.
        slot = self._slot(command.site_id)
        slot.admit(command.run_id)
        inputs = self.planner.admission_inputs(command.site_id, command.account_id)
        if inputs is None:
            raise UnknownSite(command.site_id)
        config = {key: inputs.config[key] for key in CONFIG_KEYS}
        offer = quote(inputs.pending, config, inputs.available)
        estimated, required = offer.estimate.total, offer.required
        if not offer.sufficient:
            raise InsufficientCredits(required, offer.available)
        run = AutomationRun.start(
            run_id=command.run_id, site_id=command.site_id, account_id=command.account_id,
            trigger_type=command.trigger_type, config=config, reserved_credits=required,
            estimated_credits=estimated, now=self.clock(),
        )
        writes = [
            self.planner.note_run_started(command.site_id, run.started_at),
            self.planner.reserve(command.account_id, command.run_id, required),
            self.planner.set_run_status(command.run_id, command.site_id, command.account_id, "running"),
            *self.planner.log_command(command, Outcome.ACCEPTED),
        ]
        try:
            self.store.save_with(slot, run, side_writes=writes)
        except InsufficientCredits:
            raise InsufficientCredits(required, self._available(command.account_id)) from None
        self.admitted(run)
        return Decision(Outcome.ACCEPTED)

    def _control(self, command: Command, transition: Callable[[AutomationRun, datetime], None]) -> Decision:
        def attempt() -> Decision:
            try:
                run = self.store.get(UUID(command.run_id))
            except AggregateNotFoundError:
                raise UnknownRun(command.run_id) from None
            self._require_owner(run, command)
            transition(run, self.clock())
            aggregates, writes = self.finish(run, extra=self.planner.log_command(command, Outcome.ACCEPTED))
            self.store.save_with(*aggregates, side_writes=writes)
            return Decision(Outcome.ACCEPTED)

        return retry_on_conflict(attempt)

    def _resume(self, run: AutomationRun, now: datetime) -> None:
        """Resume a run only if what it may still spend covers the most its next batch can
        cost: a run paused short of credits would otherwise make AI calls it can't pay for."""
        run.resume(now)  # a run that isn't paused is refused as such first
        required = next_batch_bound(self.planner, run)
        available = self.planner.available_credits(run.account_id, run.run_id)
        if available < required:
            raise InsufficientCredits(required, available)

    def finish(
        self, run: AutomationRun, extra: Sequence[SideWrite] = ()
    ) -> tuple[list[object], list[SideWrite]]:
        """The aggregates and side-writes that go with a run's new status."""
        writes = [self.planner.set_run_status(run.run_id, run.site_id, run.account_id, run.status), *extra]
        aggregates: list = [run]
        if run.status in ("completed", "cancelled", "failed"):
            slot = self.store.get(slot_id(run.site_id))
            slot.release(run.run_id)
            aggregates.append(slot)
            writes.append(self.planner.release(run.run_id))
        return aggregates, writes

    @staticmethod
    def _require_owner(run: AutomationRun, command: Command) -> None:
        if run.account_id != command.account_id or run.site_id != command.site_id:
            raise ForeignRun(command.run_id, command.account_id)

    def _slot(self, site_id: str) -> SiteSlot:
        try:
            return self.store.get(slot_id(site_id))
        except AggregateNotFoundError:  # the site's first run
            return SiteSlot(site_id=site_id)

    def _available(self, account_id: str) -> int:
        # A refused run holds no reservation, so this is the account's free balance.
        return self.planner.available_credits(account_id, "")

    def _reject(self, command: Command, code: str, details: dict) -> None:
        try:
            self.planner.execute(self.planner.log_command(command, Outcome.REJECTED, code, details))
        except IntegrityError:
            pass  # a redelivery of this command was decided meanwhile


def _details(error: DomainError) -> dict:
    if isinstance(error, InsufficientCredits):
        return {"required": error.required, "available": error.available}
    if isinstance(error, RunActive):
        return {"run_id": error.run_id}
    if isinstance(error, InvalidTransition):
        return {"status": error.status}
    return {}
