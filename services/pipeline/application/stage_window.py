"""The items of one stage in flight, in groups: announced together, recorded together.

Items enter the window as slots free up, a group per refill (one ``BatchStarted``); each
unit of work (an item, or a whole batch for a stage that makes one call per batch) runs as
its own task. A group is recorded in one transaction once all its units returned, and every
group finished by then goes into the same transaction: one ``BatchProcessed`` and one
``CreditsUsed`` per group, however many items it held.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from services.pipeline.application.ports import Item
from services.pipeline.application.stage_work import BatchOutcome


def merge(into: BatchOutcome, part: BatchOutcome) -> None:
    into.processed += part.processed
    into.outputs_created += part.outputs_created
    into.credits += part.credits
    into.failures.extend(part.failures)
    into.writes.extend(part.writes)
    into.ready_for_review.extend(part.ready_for_review)


@dataclass
class Group:
    batch_id: str
    item_ids: frozenset[str]
    waiting: int  # units not returned yet
    outcome: BatchOutcome = field(default_factory=BatchOutcome)

    @property
    def done(self) -> bool:
        return self.waiting == 0


@dataclass
class Window:
    """Units in flight by task, and the groups they belong to."""

    groups: dict[str, Group] = field(default_factory=dict)
    tasks: dict[asyncio.Task[BatchOutcome], str] = field(default_factory=dict)  # the group of each

    @property
    def in_flight(self) -> int:
        return len(self.tasks)

    def busy(self) -> set[str]:
        """Items of every group not recorded yet, returned or not: still pending in the
        store, and never to be loaded again by this window."""
        return {item_id for group in self.groups.values() for item_id in group.item_ids}

    def open(self, batch_id: str, units: list[list[Item]]) -> None:
        self.groups[batch_id] = Group(batch_id, frozenset(i["id"] for unit in units for i in unit), len(units))

    def add(self, task: asyncio.Task[BatchOutcome], batch_id: str) -> None:
        self.tasks[task] = batch_id

    def returned(self, task: asyncio.Task[BatchOutcome]) -> None:
        batch_id = self.tasks.pop(task)
        group = self.groups[batch_id]
        group.waiting -= 1
        merge(group.outcome, task.result())

    def harvest(self) -> None:
        """Take in every unit that returned, noticed or not (a cancel can land first)."""
        for task in [t for t in self.tasks if t.done() and not t.cancelled() and t.exception() is None]:
            self.returned(task)

    def finished(self) -> list[Group]:
        """Groups whose units all returned, still open until ``close``d once recorded."""
        return [g for g in self.groups.values() if g.done]

    def close(self, groups: list[Group]) -> None:
        for group in groups:
            self.groups.pop(group.batch_id, None)

    def take_all(self) -> list[Group]:
        """Every open group, finished or not: what a cancel must still account for."""
        groups = list(self.groups.values())
        self.groups.clear()
        return groups

    def abandon(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.tasks.clear()
