"""A run store on a scratch database of its own, for integration tests: migrated when made,
dropped afterwards; and a site to run on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

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


def seed_site(url: str, keywords: Iterable[str] = (), *, credits: int = 100000, **config: int) -> tuple[str, str]:
    """(account, site): an account with ``credits``, its site with ``keywords``, and the site's
    config with no delays and ``config`` (column: value) besides the table's defaults."""
    account, site = str(uuid.uuid4()), str(uuid.uuid4())
    settings = {"within_stage_delay": 0, "between_stage_delay": 0, **config}
    insert_config = sql.SQL("INSERT INTO automation_config (site_id, {}) VALUES (%s, {})").format(
        sql.SQL(", ").join(map(sql.Identifier, settings)), sql.SQL(", ").join(sql.Placeholder() * len(settings)))
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO accounts (id, name, credits) VALUES (%s, 'a', %s)", (account, credits))
        conn.execute("INSERT INTO sites (id, account_id, name, domain) VALUES (%s, %s, 's', 'd')", (site, account))
        conn.execute(insert_config, (site, *settings.values()))
        for keyword in keywords:
            conn.execute("INSERT INTO keywords (id, site_id, keyword, keyword_norm) VALUES (%s, %s, %s, %s)",
                         (str(uuid.uuid4()), site, keyword, keyword))
    return account, site
