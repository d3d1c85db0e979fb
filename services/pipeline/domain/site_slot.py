"""One active run per site, held as event-sourced state.

The slot of a site is an aggregate whose id derives from the site id, so two
admissions for one site race on the same aggregate version: the event store's
optimistic concurrency lets exactly one of them commit.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.pipeline.domain.aggregate_copy import PlainDataCopy
from services.pipeline.domain.errors import RunActive


def slot_id(site_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"automation/site-slot/{site_id}")


class SiteSlot(PlainDataCopy, Aggregate):
    @staticmethod
    def create_id(site_id: str) -> UUID:
        return slot_id(site_id)

    @event("Opened")
    def __init__(self, site_id: str) -> None:
        self.site_id = site_id
        self.active_run_id: str | None = None

    def admit(self, run_id: str) -> None:
        if self.active_run_id is not None:
            raise RunActive(self.site_id, self.active_run_id)
        self._admitted(run_id)

    @event("RunAdmitted")
    def _admitted(self, run_id: str) -> None:
        self.active_run_id = run_id

    def release(self, run_id: str) -> None:
        if self.active_run_id == run_id:
            self._released(run_id)

    @event("RunReleased")
    def _released(self, run_id: str) -> None:
        self.active_run_id = None
