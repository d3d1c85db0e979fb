"""Optimistic concurrency: decide again on fresh state when another writer got there first."""

from __future__ import annotations

from typing import Callable, TypeVar

from eventsourcing.persistence import IntegrityError

T = TypeVar("T")
TRIES = 5


def retry_on_conflict(attempt: Callable[[], T], tries: int = TRIES) -> T:
    """``attempt()`` until it commits; the last conflict is raised, for the caller to retry later.

    ``attempt`` must load what it changes afresh each time: a conflict means its state was stale.
    """
    for _ in range(tries - 1):
        try:
            return attempt()
        except IntegrityError:
            continue
    return attempt()
