"""The services' own role `automation_app`, made beside the owner by LocalPostgres (`make
services`, the demo): the migrations (run as the owner) grant it what the event store and
the relay need, and no way to rewrite stored events, not even by setting what the migrations
set. Most of it on a server of our own, where roles can be made and dropped; the defaults
are checked on the shared test server, on a scratch database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlparse

import asyncpg
import psycopg
import pytest

from services.pipeline.adapters.audit_checkpoints import CheckpointWriter
from services.pipeline.adapters.event_store import RunStore
from services.pipeline.adapters.outbox_relay import OutboxRelay
from shared.infra.db import create_pool
from shared.infra.local_postgres import APP_ROLE, LocalPostgres, Role
from shared.infra.migrate import upgrade
from shared.infra.settings import Settings
from tests.integration.test_audit_tampering import _record_run
from tests.support.stack import ROOT, SESSION, app_database_url, drop_database, free_port, migrated_database

pytestmark = pytest.mark.integration
OWNER = Role()
APP = APP_ROLE
REWRITES = [
    "UPDATE automation_events SET state = state",
    "DELETE FROM automation_events",
    "TRUNCATE automation_events",
    "UPDATE audit_checkpoints SET hash = hash",
    "DELETE FROM audit_run_heads",
    "UPDATE alembic_version SET version_num = version_num",
    "CREATE TABLE intruder (n int)",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LocalPostgres]:
    local = LocalPostgres(Path(tmp_path_factory.mktemp("audit-role")) / "pg", free_port())
    local.up(OWNER)  # and the application's role beside it
    upgrade(local.url(OWNER))
    yield local
    local.down()


async def _save_and_relay(url: str) -> None:
    store = RunStore.from_settings(Settings(database_url=url))
    pool = await create_pool(url)
    leader = await asyncpg.connect(url)

    async def publish(envelope: dict, site: str) -> Any:
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    try:
        await asyncio.to_thread(_record_run, store)
        relay = OutboxRelay(store, pool, publish, url, CheckpointWriter(None, every_events=1, every_seconds=3600))
        assert await relay.relay_once(leader, 0) == 5
    finally:
        await leader.close()
        await pool.close()
        store.close()


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


def test_the_app_role_records_relays_and_verifies(server: LocalPostgres) -> None:
    app_url = server.url(APP)
    asyncio.run(_save_and_relay(app_url))
    with psycopg.connect(app_url) as conn:
        assert conn.execute("SELECT count(*) FROM audit_run_heads").fetchone()[0] >= 1
        assert conn.execute("SELECT count(*) FROM audit_checkpoints").fetchone()[0] >= 1
    verified = _cli({"DATABASE_URL": app_url}, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    upgraded = _cli({"DATABASE_URL": app_url, "DATABASE_OWNER_URL": server.url(OWNER)}, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr


@pytest.mark.parametrize("statement", REWRITES)
def test_the_app_role_cannot_rewrite_even_with_the_migrations_setting(server: LocalPostgres, statement: str) -> None:
    with psycopg.connect(server.url(APP)) as conn:
        conn.execute("SET LOCAL automation.schema_change = 'on'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute(statement)


def test_an_extension_installed_into_public_leaves_upgrades_working(server: LocalPostgres) -> None:
    """An administrator adds pg_stat_statements to the application's database, as one does to
    find slow statements: its objects land in ``public``, owned by the superuser, and its reset
    function is not executable by PUBLIC. The next `db upgrade` still grants the owner's own
    objects to the services' role, and leaves the extension's as its owner set them."""
    with server.superuser(OWNER.database) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements SCHEMA public")
    try:
        upgraded = _cli({"DATABASE_URL": server.url(APP), "DATABASE_OWNER_URL": server.url(OWNER)}, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        with psycopg.connect(server.url(APP)) as conn:
            rights = conn.execute(
                "SELECT has_function_privilege('pg_stat_statements_reset(oid, oid, bigint, boolean)', 'EXECUTE'),"
                " has_table_privilege('pg_stat_statements', 'INSERT'),"
                " has_function_privilege('append_automation_events(uuid[], bigint[], text[], bytea[], text[], int)',"
                " 'EXECUTE'), has_table_privilege('run_view', 'INSERT'),"
                " has_sequence_privilege('automation_events_notification_id_seq', 'USAGE'),"
                " has_table_privilege('automation_events', 'UPDATE')").fetchone()
        assert rights == (False, False, True, True, True, False)
    finally:
        with server.superuser(OWNER.database) as conn:
            conn.execute("DROP EXTENSION pg_stat_statements")


def test_the_app_role_is_a_plain_login(server: LocalPostgres) -> None:
    with psycopg.connect(server.url(APP)) as conn:
        assert conn.execute("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles"
                            " WHERE rolname = current_user").fetchone() == (False, False, False)


def test_a_role_made_after_the_migrations_gets_its_rights_at_the_next_upgrade(tmp_path: Path) -> None:
    """An existing database: migrated while no application role existed, which the next
    `make services` then makes; its `db upgrade`, with nothing left to apply, grants it."""
    local = LocalPostgres(tmp_path / "pg", free_port())
    try:
        local.up(OWNER, app=None)
        upgrade(local.url(OWNER))
        local.up(OWNER)
        with psycopg.connect(local.url(APP)) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT count(*) FROM run_view")
        upgraded = _cli({"DATABASE_URL": local.url(APP), "DATABASE_OWNER_URL": local.url(OWNER)}, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        with psycopg.connect(local.url(APP)) as conn:
            for table in ("run_view", "dead_letters", "ai_slot_leases", "audit_run_heads"):  # 0001 to 0009
                conn.execute(f"SELECT count(*) FROM {table}")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("DELETE FROM automation_events")
    finally:
        local.down()


@pytest.fixture
def scratch(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A scratch database on the server the defaults name (`make services`' own)."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_OWNER_URL", raising=False)
    name = f"automation_test_approle_{SESSION}"
    yield migrated_database(name)
    drop_database(name)


def test_the_defaults_connect_the_services_as_the_app_role_and_upgrades_as_the_owner(scratch: str) -> None:
    """With no DATABASE_URL nor DATABASE_OWNER_URL set, the owner migrated the scratch
    database, and the services' role, `automation_app`, may not rewrite its events."""
    settings = Settings()
    assert urlparse(settings.database_url).username == APP.user
    with psycopg.connect(scratch) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == urlparse(settings.migration_database_url).username
    app_url = app_database_url(urlparse(scratch).path.lstrip("/"))
    for statement in REWRITES:
        with psycopg.connect(app_url) as conn:
            assert conn.execute("SELECT current_user").fetchone()[0] == APP.user
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                conn.execute(statement)
