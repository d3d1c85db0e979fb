"""Reading the event store as auditors and the replay see it: run by run, in order."""

from __future__ import annotations

from typing import Any, Iterator
from uuid import UUID

from eventsourcing.utils import get_topic

from services.pipeline.adapters.event_store import RunStore
from shared.events.events import envelope
from services.pipeline.domain.run import RunEvent, RunStarted
from shared.events.hashchain import ChainedRunEvent

PAGE = 1000


def run_ids(store: RunStore) -> Iterator[str]:
    """Every run with any event in the store, oldest first. Found from all of its events, not
    only its RunStarted, so a run whose first event was deleted is still checked."""
    module = get_topic(RunStarted).split(":")[0]
    table = store.recorder.events_table_name  # type: ignore[attr-defined]
    with store.cursor() as cur:
        cur.execute(
            f"SELECT originator_id FROM {table} WHERE topic LIKE %s"
            " GROUP BY originator_id ORDER BY min(notification_id)",
            (f"{module}:%",),
        )
        rows = cur.fetchall()
    for row in rows:
        yield str(row["originator_id"])


def run_events(store: RunStore, run_id: str) -> list[Any]:
    """The run's events in order; none for an id that is not a run's (or not a UUID)."""
    try:
        originator = UUID(run_id)
    except ValueError:
        return []
    stored = store.recorder.select_events(originator)
    return [store.mapper.to_domain_event(s) for s in stored]


def chained(event: Any) -> ChainedRunEvent:
    return ChainedRunEvent(
        run_id=str(event.originator_id), sequence=event.originator_version, type=type(event).__name__,
        occurred_at=event.occurred_at, data=event.data, hash=event.hash, prev_hash=event.prev_hash,
    )


def envelopes(store: RunStore) -> Iterator[dict[str, Any]]:
    """Every run event as it was (or would be) published, in the store's order."""
    owners: dict[str, tuple[str, str]] = {}
    position = 0
    while True:
        page = store.recorder.select_notifications(position, PAGE, inclusive_of_start=False)
        if not page:
            return
        for notification in page:
            event = store.mapper.to_domain_event(notification)
            if isinstance(event, RunStarted):
                owners[str(event.originator_id)] = (event.data["site_id"], event.data["account_id"])
            if isinstance(event, (RunStarted, RunEvent)):
                yield envelope(event, *owners[str(event.originator_id)])
        position = page[-1].id


def count_run_events(store: RunStore) -> int:
    module = get_topic(RunStarted).split(":")[0]
    table = store.recorder.events_table_name  # type: ignore[attr-defined]
    with store.cursor() as cur:
        cur.execute(f"SELECT count(*) AS n FROM {table} WHERE topic LIKE %s", (f"{module}:%",))
        return int(cur.fetchone()["n"])
