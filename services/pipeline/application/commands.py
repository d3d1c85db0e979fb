"""Use cases for the four commands. Synchronous: callers run them in a worker thread.

Each decision is written to ``command_log`` in the same transaction as the events
it causes, so a redelivered command finds its decision and changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import ModuleType
from datetime import datetime, timezone
from typing import Callable
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from services.pipeline.adapters import planner_sql
from services.pipeline.adapters.event_store import RunStore, SideWrite
from services.pipeline.application.retry import retry_on_conflict
from services.pipeline.domain.credits import quote
from services.pipeline.domain.errors import DomainError, InsufficientCredits, InvalidTransition, RunActive
from services.pipeline.domain.run import AutomationRun
from services.pipeline.domain.site_slot import SiteSlot, slot_id
from shared.events.commands import CancelRun, Command, Outcome, PauseRun, ResumeRun, StartRun

Clock = Callable[[], datetime]
CONFIG_KEYS = (
    "stage_1_batch_size", "stage_2_batch_size", "stage_3_batch_size", "stage_4_batch_size",
    "stage_5_batch_size", "stage_6_batch_size", "within_stage_delay", "between_stage_delay",
)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    error_code: str | None = None
    message: str = ""


class CommandHandlers:
    def __init__(self, store: RunStore, sql: ModuleType = planner_sql, clock: Clock = utcnow) -> None:
        self.store = store
        self.sql = sql  # the SQL dialect of the store's database (planner_sql: PostgreSQL)
        self.clock = clock

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

    def refuse(self, command: Command, code: str) -> None:
        """Record a refusal decided outside the domain rules (a command that can't be handled)."""
        self._reject(command, code, {})

    def _decided(self, command: Command) -> bool:
        with self.store.cursor() as cur:
            return self.sql.command_outcome(cur, command.command_id) is not None

    def _decide(self, command: Command) -> Decision:
        if isinstance(command, StartRun):
            return retry_on_conflict(lambda: self._start(command))
        if isinstance(command, PauseRun):
            return self._control(command, lambda run, now: run.pause("user", now))
        if isinstance(command, ResumeRun):
            return self._control(command, lambda run, now: run.resume(now))
        if isinstance(command, CancelRun):
            return self._control(command, lambda run, now: run.cancel("user", now))
        raise TypeError(f"unknown command {command!r}")

    def _start(self, command: StartRun) -> Decision:
        with self.store.cursor(commit=True) as cur:
            inputs = self.sql.admission_inputs(cur, command.site_id, command.account_id)
        if inputs is None:
            raise UnknownSite(command.site_id)
        config = {key: inputs["config"][key] for key in CONFIG_KEYS}
        offer = quote(inputs["pending"], config["stage_1_batch_size"], inputs["credits"] - inputs["reserved"])
        estimated, required = offer.estimate.total, offer.required
        slot = self._slot(command.site_id)
        slot.admit(command.run_id)
        if not offer.sufficient:
            raise InsufficientCredits(required, offer.available)
        run = AutomationRun.start(
            run_id=command.run_id, site_id=command.site_id, account_id=command.account_id,
            trigger_type=command.trigger_type, config=config, reserved_credits=required,
            estimated_credits=estimated, now=self.clock(),
        )
        writes = [
            self.sql.note_run_started(command.site_id, run.started_at),
            self.sql.reserve(command.account_id, command.run_id, required),
            self.sql.set_run_status(command.run_id, command.site_id, command.account_id, "running"),
            *self.sql.log_command(command, Outcome.ACCEPTED),
        ]
        try:
            self.store.save_with(slot, run, side_writes=writes)
        except InsufficientCredits:
            raise InsufficientCredits(required, self._available(command.account_id)) from None
        return Decision(Outcome.ACCEPTED)

    def _control(self, command: Command, transition: Callable[[AutomationRun, datetime], None]) -> Decision:
        def attempt() -> Decision:
            try:
                run = self.store.get(UUID(command.run_id))
            except AggregateNotFoundError:
                raise UnknownRun(command.run_id) from None
            transition(run, self.clock())
            aggregates, writes = self.finish(run, extra=self.sql.log_command(command, Outcome.ACCEPTED))
            self.store.save_with(*aggregates, side_writes=writes)
            return Decision(Outcome.ACCEPTED)

        return retry_on_conflict(attempt)

    def finish(
        self, run: AutomationRun, extra: list[SideWrite] = ()
    ) -> tuple[list[object], list[SideWrite]]:
        """The aggregates and side-writes that go with a run's new status."""
        writes = [self.sql.set_run_status(run.run_id, run.site_id, run.account_id, run.status), *extra]
        aggregates: list = [run]
        if run.status in ("completed", "cancelled", "failed"):
            slot = self.store.get(slot_id(run.site_id))
            slot.release(run.run_id)
            aggregates.append(slot)
            writes.append(self.sql.release(run.run_id))
        return aggregates, writes

    def _slot(self, site_id: str) -> SiteSlot:
        try:
            return self.store.get(slot_id(site_id))
        except AggregateNotFoundError:  # the site's first run
            return SiteSlot(site_id=site_id)

    def _available(self, account_id: str) -> int:
        with self.store.cursor() as cur:
            # A refused run holds no reservation, so this is the account's free balance.
            return self.sql.available_credits(cur, account_id, "")

    def _reject(self, command: Command, code: str, details: dict) -> None:
        try:
            with self.store.cursor(commit=True) as cur:
                for statement, params in self.sql.log_command(command, Outcome.REJECTED, code, json.dumps(details)):
                    cur.execute(statement, params)
        except IntegrityError:
            pass  # a redelivery of this command was decided meanwhile


class UnknownSite(DomainError):
    code = "not_found"

    def __init__(self, site_id: str) -> None:
        super().__init__(f"site {site_id} does not exist for this account")


class UnknownRun(DomainError):
    code = "not_found"

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id} does not exist")


def _details(error: DomainError) -> dict:
    if isinstance(error, InsufficientCredits):
        return {"required": error.required, "available": error.available}
    if isinstance(error, RunActive):
        return {"run_id": error.run_id}
    if isinstance(error, InvalidTransition):
        return {"status": error.status}
    return {}
