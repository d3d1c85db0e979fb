"""One scheduler tick: start the due scheduled runs.

``next_run_at`` is not the tick's to keep: it is derived from the same rule
(``shared/schedule.py``) whenever the config is read.

Safety across replicas and crashes
----------------------------------
A slot is claimed by inserting its ``schedule_slots`` row, and the StartRun is published
*inside* that transaction: the row commits only once the broker has acknowledged the
command. Two schedulers racing for a slot serialise on the row's primary key, and the
loser sees it taken. A crash or publish failure before the commit leaves the slot
unclaimed, so a later tick publishes again with the same ids (derived from site and slot),
and the pipeline drops the repeat by ``command_id``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, uuid5

from services.scheduler.application.ports import (
    Clock, CommandPublisher, ScheduledConfig, ScheduleRepository,
)
from shared.schedule import FIRE_WINDOW, ScheduleSpec, slot_to_fire
from shared.events.commands import StartRun

log = logging.getLogger("scheduler")



def scheduled_ids(site_id: str, slot: datetime) -> tuple[str, str]:
    """(run_id, command_id) of a slot's StartRun: the same on every retry, by any replica."""
    key = f"{site_id}/{slot.isoformat()}"
    run_id = uuid5(NAMESPACE_URL, f"automation/scheduled-run/{key}")
    command_id = uuid5(NAMESPACE_URL, f"automation/scheduled-start/{key}")
    return str(run_id), str(command_id)


@dataclass
class TickReport:
    now: datetime
    started: list[tuple[str, datetime, str]] = field(default_factory=list)  # site, slot, run
    skipped: list[tuple[str, datetime, str | None]] = field(default_factory=list)  # site, slot, active run
    failed: list[str] = field(default_factory=list)  # sites whose handling raised


class SchedulerTick:
    def __init__(
        self, repo: ScheduleRepository, publisher: CommandPublisher, clock: Clock,
        window: timedelta = FIRE_WINDOW,
    ) -> None:
        self.repo = repo
        self.publisher = publisher
        self.clock = clock
        self.window = window

    async def __call__(self) -> TickReport:
        report = TickReport(now=self.clock())
        for config in await self.repo.configs():
            try:
                await self._handle(config, report)
            except Exception:
                # One site's bad row or a broker outage must not starve the others; an
                # unclaimed slot is retried on the next tick while still within the window.
                log.exception("site %s: scheduling failed", config.site_id)
                report.failed.append(config.site_id)
        return report

    async def _handle(self, config: ScheduledConfig, report: TickReport) -> None:
        if not config.is_enabled:
            return
        spec = ScheduleSpec(config.frequency, config.scheduled_time)  # type: ignore[arg-type]
        slot = slot_to_fire(spec, report.now, config.last_slot_taken, self.window, config.schedule_changed_at)
        if slot is not None:
            await self._fire(config, slot, report)

    async def _fire(self, config: ScheduledConfig, slot: datetime, report: TickReport) -> None:
        run_id, command_id = scheduled_ids(config.site_id, slot)
        async with self.repo.claim(config.site_id, slot, run_id) as claim:
            if claim.outcome == "started":
                await self.publisher.publish(StartRun(
                    command_id=command_id, site_id=config.site_id, account_id=config.account_id,
                    run_id=run_id, trigger_type="scheduled", issued_at=report.now,
                ))
        if claim.outcome == "started":
            log.info("site %s: slot %s started run %s", config.site_id, slot.isoformat(), run_id)
            report.started.append((config.site_id, slot, run_id))
        elif claim.outcome == "skipped_active":
            log.info("site %s: slot %s skipped, run %s is active",
                     config.site_id, slot.isoformat(), claim.active_run_id)
            report.skipped.append((config.site_id, slot, claim.active_run_id))
