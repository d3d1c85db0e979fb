"""What a scheduler tick needs from the outside world: a clock, configs and slot claims, a bus."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import AsyncContextManager, Callable, Literal, Protocol

from shared.events.commands import StartRun

Clock = Callable[[], datetime]  # aware UTC now
ClaimOutcome = Literal["started", "skipped_active", "taken"]


@dataclass(frozen=True)
class ScheduledConfig:
    """One site's schedule as stored now (read afresh every tick)."""

    site_id: str
    account_id: str
    is_enabled: bool
    frequency: str
    scheduled_time: str
    last_slot_taken: datetime | None  # the latest slot any scheduler has claimed for the site
    schedule_changed_at: datetime | None = None  # slots before it are not due


@dataclass(frozen=True)
class SlotClaim:
    outcome: ClaimOutcome
    active_run_id: str | None = None  # the run that made a `skipped_active` claim skip


class ScheduleRepository(Protocol):
    async def configs(self) -> list[ScheduledConfig]:
        """The enabled configs."""

    def claim(self, site_id: str, slot: datetime, run_id: str) -> AsyncContextManager[SlotClaim]:
        """Take the slot, once across all schedulers; commit on a clean exit, roll back on error.

        `taken`: another tick already holds it (or holds it uncommitted and then commits).
        `skipped_active`: the site had another running or paused run; recorded as such.
        `started`: recorded with `run_id` (the pipeline sets last_run_at once it admits the run).
        """


class CommandPublisher(Protocol):
    async def publish(self, command: StartRun) -> None:
        """Return once the broker has acknowledged the command."""
