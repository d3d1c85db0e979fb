"""The services' own role: on a private PostgreSQL where an administrator created
`automation_app`, the migrations (run as the owner) grant it what the event store and the
relay need, and no way to rewrite stored events, not even by setting what the migrations
set. The shared test server's role may not create roles, hence a server of our own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import asyncpg
import psycopg
import pytest

from services.pipeline.adapters.audit_checkpoints import CheckpointWriter
from services.pipeline.adapters.event_store import RunStore
from services.pipeline.adapters.outbox_relay import OutboxRelay
from shared.infra.db import create_pool
from shared.infra.local_postgres import LocalPostgres, Role
from shared.infra.migrate import upgrade
from shared.infra.settings import Settings
from tests.integration.test_audit_tampering import _record_run
from tests.support.stack import ROOT, free_port

pytestmark = pytest.mark.integration
OWNER = Role()
APP = Role("automation_app", "app-secret", OWNER.database)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LocalPostgres]:
    local = LocalPostgres(Path(tmp_path_factory.mktemp("audit-role")) / "pg", free_port())
    local.up(OWNER)
    local.up(APP)  # the administrator's part: a login role (its database exists already)
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


@pytest.mark.parametrize("statement", [
    "UPDATE automation_events SET state = state",
    "DELETE FROM automation_events",
    "TRUNCATE automation_events",
    "UPDATE audit_checkpoints SET hash = hash",
    "DELETE FROM audit_run_heads",
])
def test_the_app_role_cannot_rewrite_even_with_the_migrations_setting(server: LocalPostgres, statement: str) -> None:
    with psycopg.connect(server.url(APP)) as conn:
        conn.execute("SET LOCAL automation.schema_change = 'on'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute(statement)
