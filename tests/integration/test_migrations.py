"""The migrations build the whole schema from nothing, and carry a database's rows from each
revision to the next; the event store works on what they build, as the library would build it."""

from __future__ import annotations

import re
import uuid
from importlib import resources
from typing import Iterator

import psycopg
import pytest
from alembic.script import ScriptDirectory

from services.pipeline.adapters.event_store import RunStore
from services.pipeline.domain.site_slot import SiteSlot
from shared.infra.migrate import alembic_config, current_revision, head_revision, require_current_schema, upgrade
from shared.infra.settings import Settings
from tests.support.stack import SESSION, drop_database, fresh_database, migrated_database

pytestmark = pytest.mark.integration
BASELINE = "0001_baseline"
# Rows of every kind a deployment has, to be carried through each revision.
SAMPLE_TABLES = ("accounts", "sites", "automation_config", "keywords", "credit_ledger", "run_reservations",
                 "command_log", "run_view", "automation_events")


@pytest.fixture
def database() -> Iterator[tuple[str, str]]:
    name = f"automation_test_migrations_{uuid.uuid4().hex[:6]}_{SESSION}"
    yield name, fresh_database(name)
    drop_database(name)


def _revisions_after_baseline() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions())) if rev.revision != BASELINE]


def _insert_sample(url: str) -> str:
    """A tenant with a config, keywords, a reserved run and its decision, view and events."""
    account, site, run = "acct-1", "site-1", str(uuid.uuid4())
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO accounts (id, name, credits) VALUES (%s, 'Acme', 500)", (account,))
        conn.execute("INSERT INTO sites (id, account_id, name, domain) VALUES (%s, %s, 'Blog', 'b.example')",
                     (site, account))
        conn.execute("INSERT INTO automation_config (site_id, is_enabled) VALUES (%s, true)", (site,))
        conn.execute("INSERT INTO keywords (id, site_id, keyword, keyword_norm) VALUES "
                     "('k1', %s, 'Cold Brew', 'cold brew'), ('k2', %s, 'Espresso', 'espresso')", (site, site))
        conn.execute("SELECT reserve_credits(%s, %s, 120)", (account, run))
        conn.execute("INSERT INTO command_log (command_id, type, site_id, run_id, outcome) "
                     "VALUES ('c1', 'StartRun', %s, %s, 'accepted')", (site, run))
        conn.execute("INSERT INTO run_view (run_id, site_id, account_id, trigger_type, status, current_stage, "
                     "started_at, last_sequence) VALUES (%s, %s, %s, 'manual', 'running', 1, now(), 1)",
                     (run, site, account))
    # Saved by the library's own recorder: the pipeline's needs a function of a later revision
    # (0012), and writes the same rows.
    store = RunStore(env=Settings(database_url=url).eventsourcing_env())
    try:
        slot = SiteSlot(site)
        slot.admit(run)
        store.save(slot)
    finally:
        store.close()
    return run


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in SAMPLE_TABLES}


def test_upgrade_from_empty_reaches_head_and_the_event_store_works(database: tuple[str, str]) -> None:
    _, url = database
    assert current_revision(url) is None
    upgrade(url)
    assert current_revision(url) == head_revision()
    require_current_schema(url)
    store = RunStore.from_settings(Settings(database_url=url))
    try:
        slot = SiteSlot("site-1")
        slot.admit("run-1")
        # A side-write commits with the events, on the recorder the pipeline uses.
        store.save_with(slot, side_writes=[("INSERT INTO outbox_position (name, position) VALUES ('probe', 0)", ())])
        assert store.get(slot.id).active_run_id == "run-1"
        assert [n.id for n in store.notification_log.select(1, 10)] == [1, 2]
    finally:
        store.close()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT position FROM outbox_position WHERE name = 'probe'").fetchone() == (0,)


def test_each_revision_carries_the_rows_of_the_one_before(database: tuple[str, str]) -> None:
    _, url = database
    upgrade(url, BASELINE)
    run = _insert_sample(url)
    before = _counts(url)
    assert all(before.values()), before
    for revision in _revisions_after_baseline():
        upgrade(url, revision)
        assert current_revision(url) == revision
        assert _counts(url) == before, f"rows lost or added by {revision}"
    assert current_revision(url) == head_revision()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT schedule_changed_at, is_enabled FROM automation_config").fetchone() == (None, True)
        assert conn.execute("SELECT reserved FROM accounts").fetchone() == (120,)
        conn.execute("SELECT release_reservation(%s)", (run,))
        assert conn.execute("SELECT reserved FROM accounts").fetchone() == (0,)
    store = RunStore.from_settings(Settings(database_url=url))
    try:
        assert store.get(SiteSlot.create_id("site-1")).active_run_id == run
    finally:
        store.close()


def _event_store_shape(url: str) -> dict[str, object]:
    queries = {
        "columns": "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
                   "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a LEFT JOIN pg_attrdef d "
                   "ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = 'automation_events'::regclass "
                   "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'automation_events' ORDER BY 1",
        "options": "SELECT unnest(reloptions) FROM pg_class WHERE oid = 'automation_events'::regclass ORDER BY 1",
        "type": "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                "'stored_event_uuid'::regclass ORDER BY attnum",
        "function": "SELECT pg_get_function_identity_arguments(oid), pg_get_function_result(oid), prosrc "
                    "FROM pg_proc WHERE proname = 'es_insert_events_uuid'",
    }
    with psycopg.connect(url) as conn:
        shape: dict[str, object] = {key: conn.execute(sql).fetchall() for key, sql in queries.items()}
    # The library writes the body on one line with qualified names; what it does is what counts.
    shape["function"] = [(args, result, re.sub(r'[\s"]', "", body).replace("public.", "")) for args, result, body in shape["function"]]
    return shape


def test_the_baseline_builds_the_event_store_as_the_library_does_and_adopts_one_it_built(
        database: tuple[str, str]) -> None:
    name, by_library = database
    env = Settings(database_url=by_library).eventsourcing_env() | {"CREATE_TABLE": "y"}
    RunStore(env=env).close()
    expected = _event_store_shape(by_library)
    # A database from before the migrations: the library had built these tables at start-up.
    upgrade(by_library)
    assert current_revision(by_library) == head_revision()
    migrated = migrated_database(f"{name}_m")
    try:
        assert _event_store_shape(migrated) == expected
    finally:
        drop_database(f"{name}_m")


def test_upgrade_adopts_a_database_the_services_built_before_there_were_migrations(
        database: tuple[str, str]) -> None:
    _, url = database
    baseline = resources.files("shared.infra").joinpath("migrations/versions/0001_baseline.sql").read_text()
    with psycopg.connect(url) as conn:  # what every process applied at start-up, ALTER included
        conn.execute(baseline)
        conn.execute("ALTER TABLE automation_config ADD COLUMN IF NOT EXISTS schedule_changed_at timestamptz")
        conn.execute("INSERT INTO accounts (id, name, credits) VALUES ('acct-1', 'Acme', 5)")
    upgrade(url)
    assert current_revision(url) == head_revision()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT id, credits FROM accounts").fetchall() == [("acct-1", 5)]
