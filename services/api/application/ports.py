"""What the API's use cases need from the outside world; adapters/ implements each."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from shared.events.commands import Command


class DecisionTimeout(Exception):
    """The pipeline did not decide in time; the command may still be decided later."""


class CommandBus(Protocol):
    async def decide(self, command: Command) -> Mapping[str, Any]:
        """Send the command and wait for the pipeline's decision (its command_log row)."""

    async def decision(self, command_id: str) -> Mapping[str, Any] | None: ...

    async def withdraw(self, command: Command) -> bool:
        """Take back a command nobody decided yet; False when it was decided meanwhile."""


class Runs(Protocol):
    async def run_head(self, run_id: str, account_id: str) -> Mapping[str, Any] | None:
        """The run's site and status, if the run belongs to the account."""

    async def wait_for_run(self, site_id: str, run_id: str) -> bool:
        """Wait until the read model has the site's run, so the caller's next read finds it."""

    async def active_run(self, site_id: str) -> str | None:
        """The site's running or paused run as the pipeline last recorded it (one indexed read)."""


class RateWindow(Protocol):
    async def admit(self, account_id: str, limit: int, window_seconds: int) -> float | None:
        """Count this request if fewer than ``limit`` of the account's were counted in the last
        ``window_seconds`` (None), else return how many seconds until one leaves the window."""


class Configs(Protocol):
    async def config(self, site_id: str) -> dict[str, Any]:
        """The stored config (created with the defaults on first read) and the schedule's
        bookkeeping: ``schedule_changed_at`` and ``last_slot_taken``."""

    async def save_config(self, site_id: str, changes: Mapping[str, Any],
                          schedule_changed_at: datetime | None) -> dict[str, Any]:
        """Write the changes; returns what ``config`` returns."""

    async def pending_counts(self, site_id: str) -> dict[int, int]: ...

    async def available_credits(self, account_id: str) -> int: ...
