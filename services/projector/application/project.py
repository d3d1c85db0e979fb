"""Applies a batch of run events to the read models: each event once, in order, per run.

The caller runs it in one transaction, so each view and the last sequence it reflects
are written together: a redelivered event is recognised and skipped.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Protocol

from services.projector.domain.sequence import next_in_line
from shared.run_view import SNAPSHOT_EVERY, View, advance, log_line

Event = dict[str, Any]


@dataclass(frozen=True)
class RunUpdate:
    """What a batch adds to one run: the view as of the last of ``events``, those events, one
    log line for each, and the view as of each sequence that is a multiple of ``SNAPSHOT_EVERY``."""
    view: View
    events: list[Event]
    lines: list[str]
    snapshots: list[tuple[int, View]]


class ReadModels(Protocol):
    async def views(self, run_ids: list[str]) -> dict[str, tuple[View, int]]:
        """Each run's view and the last sequence it reflects (a run before its RunStarted has
        none), held against other writers until the transaction ends. The views are the
        caller's own: folding changes them in place."""

    async def save(self, updates: list[RunUpdate]) -> None:
        """Every run's update at once; the log lines of one site take its stream positions in
        the order of ``updates``, then of each update's lines."""


async def apply(models: ReadModels, events: list[Event],
                unfit: list[tuple[Event, str]] | None = None) -> int:
    """Returns how many events were new. The views are read together and written together.

    A run whose new events can't be folded (one before its RunStarted, or data of the wrong
    shape) is left as it was, and its events are added to ``unfit`` with the reason: they
    could never be applied, and failing the batch would block every run behind them."""
    by_run: dict[str, list[Event]] = {}
    for event in events:
        by_run.setdefault(event["run_id"], []).append(event)
    views = await models.views(list(by_run))
    updates = []
    for run_id, run_events in by_run.items():
        view, last = views.get(run_id, (None, 0))
        fresh = next_in_line(last, run_events)
        if not fresh:
            continue
        try:
            updates.append(_fold(view, fresh))
        except (AssertionError, KeyError, TypeError, ValueError, AttributeError) as error:
            if unfit is None:
                raise
            reason = f"cannot be applied to run {run_id}: {type(error).__name__}: {error}"[:300]
            unfit.extend((event, reason) for event in fresh)
    if updates:
        await models.save(updates)
    return sum(len(update.events) for update in updates)


def _fold(view: View | None, fresh: list[Event]) -> RunUpdate:
    # In place, without a copy: a view that fails half-way through is dropped with its run's events.
    lines, snapshots = [], []
    for event in fresh:
        view = advance(view, event)
        lines.append(log_line(view, event))
        if event["sequence"] % SNAPSHOT_EVERY == 0:
            snapshots.append((event["sequence"], copy.deepcopy(view)))  # the fold goes on changing ``view``
    return RunUpdate(view, fresh, lines, snapshots)
