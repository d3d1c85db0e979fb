"""A run store on a scratch database of its own, for integration tests: migrated when made,
dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from services.pipeline.adapters.account_slots import PgAccountSlots
from services.pipeline.adapters.ai.offline import OfflineAI
from services.pipeline.adapters.event_store import RunStore
from services.pipeline.adapters.planner_sql import PgPlanner
from services.pipeline.application.commands import CommandHandlers
from services.pipeline.application.worker import RunWorker
from shared.infra.settings import Settings
from tests.support.stack import SESSION, drop_database, migrated_database


@contextmanager
def scratch_store(label: str) -> Iterator[tuple[str, RunStore]]:
    """(the database's URL, a store on it); ``label`` keeps teammates' databases apart."""
    name = f"automation_test_{label}_{SESSION}"
    url = migrated_database(name)
    store = RunStore.from_settings(Settings(database_url=url))
    try:
        yield url, store
    finally:
        store.close()
        drop_database(name)


@contextmanager
def scratch_worker(label: str) -> Iterator[tuple[str, RunStore, CommandHandlers, RunWorker]]:
    """A run worker with the offline AI on a scratch store: (URL, store, handlers, worker)."""
    with scratch_store(label) as (url, store):
        handlers = CommandHandlers(store, PgPlanner(store))
        yield url, store, handlers, RunWorker(store, handlers, OfflineAI(), PgAccountSlots(store))
