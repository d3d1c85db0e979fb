"""What the pipeline's use cases need from storage, as ports; adapters/ implements them.

Reads answer at once. Writes are returned as ``SideWrite`` values, opaque here: the
run store executes them in the transaction that records the run's events, so a
batch's outputs, its debit and its events commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from shared.events.commands import Command, Outcome

Item = dict[str, Any]
SideWrite = tuple[str, Any]


@dataclass(frozen=True)
class AdmissionInputs:
    """What admission decides on: the site's config, its pending counts, the balance."""

    config: dict[str, Any]
    pending: dict[int, int]  # by stage number
    credits: int
    reserved: int

    @property
    def available(self) -> int:
        return self.credits - self.reserved


@dataclass(frozen=True)
class StepReads:
    """What a step of a stage reads before its write, all in one round trip."""

    items: list[Item]  # the stage's next pending items (none asked for: empty)
    clusters: list[Item] | None  # the site's clusters, when asked for
    available: int  # what the run may still spend, when asked for (else 0)


class RunStore(Protocol):
    """The event store of the AutomationRun and SiteSlot aggregates."""

    def get(self, aggregate_id: UUID) -> Any: ...

    def save_with(self, *aggregates: Any, side_writes: Sequence[SideWrite] = ()) -> None:
        """Save atomically with the writes; a breached credit check raises InsufficientCredits."""


class PlannerReads(Protocol):
    def reading(self) -> AbstractContextManager[None]:
        """A block whose reads (on this thread) share one connection."""

    def count_pending(self, site_id: str, run_id: str, stage: int) -> int: ...

    def load_batch(self, site_id: str, run_id: str, stage: int, limit: int,
                   skip: Collection[str] = ()) -> list[Item]:
        """The stage's next pending items, oldest first, less those that failed in this run
        and those in ``skip`` (already in flight)."""

    def existing_clusters(self, site_id: str) -> list[Item]: ...

    def step_reads(self, site_id: str, run_id: str, account_id: str, stage: int, limit: int,
                   skip: Collection[str] = (), *, clusters: bool = False, credits: bool = False) -> StepReads:
        """``load_batch`` (nothing when ``limit`` is 0), ``existing_clusters`` and
        ``available_credits`` as asked, sent together: one round trip, not three."""

    def available_credits(self, account_id: str, run_id: str) -> int:
        """What the run may still spend: the account's free balance plus its own reservation."""

    def command_outcome(self, command_id: str) -> str | None: ...

    def admission_inputs(self, site_id: str, account_id: str) -> AdmissionInputs | None:
        """None when the site is not the account's."""

    def execute(self, writes: Sequence[SideWrite]) -> None:
        """Commit writes that go with no event (a refused command's decision)."""


class PlannerWrites(Protocol):
    def insert(self, table: str, row: Mapping[str, Any]) -> SideWrite: ...

    def update(self, table: str, row_id: str, changes: Mapping[str, Any],
               when: Mapping[str, Any] | None = None) -> SideWrite:
        """Change one row, only while its columns still hold ``when`` (None: IS NULL)."""

    def record_failure(self, run_id: str, stage: int, item_id: str) -> SideWrite: ...

    def debit(self, account_id: str, run_id: str, stage: int, credits: int, entry_key: str) -> SideWrite: ...

    def reserve(self, account_id: str, run_id: str, credits: int) -> SideWrite: ...

    def release(self, run_id: str) -> SideWrite: ...

    def note_run_started(self, site_id: str, started_at: str) -> SideWrite: ...

    def set_run_status(self, run_id: str, site_id: str, account_id: str, status: str) -> SideWrite: ...

    def log_command(self, command: Command, outcome: Outcome, error_code: str | None = None,
                    details: Mapping[str, Any] | None = None) -> list[SideWrite]:
        """Record how a command was decided, and wake whoever waits for that decision."""


class AccountSlots(Protocol):
    """An account's ceiling of AI calls in flight, shared by its runs in every process."""

    def lease(self, account_id: str, holder: str, wanted: int, ttl_seconds: float) -> int:
        """Take or renew up to ``wanted`` slots for ``holder``; how many it now holds. 0 gives them back."""

    def give_back(self, account_id: str, holder: str) -> SideWrite:
        """Giving ``holder``'s slots back, as a write of the transaction it goes with."""


class Planner(PlannerReads, PlannerWrites, Protocol):
    """The planner and writer tables, and the pipeline's bookkeeping beside them."""
