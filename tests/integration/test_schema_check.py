"""Processes refuse a database that is not at the head revision, and say what to do;
`automation db upgrade` is what brings it there, however many run at once."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from typing import Iterator

import psycopg
import pytest

from shared.infra.migrate import SchemaNotCurrent, current_revision, head_revision, require_current_schema, upgrade
from tests.support.stack import ROOT, SESSION, drop_database, fresh_database

pytestmark = pytest.mark.integration
BASELINE = "0001_baseline"


@pytest.fixture
def database() -> Iterator[str]:
    name = f"automation_test_schema_check_{uuid.uuid4().hex[:6]}_{SESSION}"
    yield fresh_database(name)
    drop_database(name)


@pytest.fixture(scope="module")
def baseline_database() -> Iterator[str]:
    name = f"automation_test_schema_old_{SESSION}"
    url = fresh_database(name)
    upgrade(url, BASELINE)
    yield url
    drop_database(name)


def _run(url: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "KAFKA_TOPIC_PREFIX": f"test-{SESSION}-schema-check."}
    return subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _table_columns(url: str, table: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                            "ORDER BY column_name", (table,)).fetchall()
    return [name for (name,) in rows]


@pytest.mark.parametrize("argv", [
    ["-m", "services.api"], ["-m", "services.pipeline"], ["-m", "services.projector"],
    ["-m", "services.scheduler"], ["-m", "services.cli", "replay"],
])
def test_a_process_on_an_older_schema_exits_with_the_reason_and_alters_nothing(
        baseline_database: str, argv: list[str]) -> None:
    columns = _table_columns(baseline_database, "automation_config")
    done = _run(baseline_database, *argv)
    assert done.returncode == 1, done.stderr
    assert (f"not starting: the database schema is at revision {BASELINE}, this version needs {head_revision()}: "
            "run `automation db upgrade`") in done.stderr
    assert current_revision(baseline_database) == BASELINE
    assert _table_columns(baseline_database, "automation_config") == columns


def test_the_check_names_an_empty_database_and_a_newer_one(database: str) -> None:
    with pytest.raises(SchemaNotCurrent, match="no schema yet .* run `automation db upgrade`"):
        require_current_schema(database)
    upgrade(database)
    with psycopg.connect(database) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    with pytest.raises(SchemaNotCurrent, match="0099_from_the_future, which this version does not know"):
        require_current_schema(database)


def test_concurrent_db_upgrades_take_turns(database: str) -> None:
    env = {**os.environ, "DATABASE_URL": database}
    command = [sys.executable, "-m", "services.cli", "db", "upgrade"]
    procs = [subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [proc.communicate(timeout=120)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], outputs
    # One of them applied every revision; the others, once the lock was theirs, found nothing to do.
    assert sum("Running upgrade  -> 0001_baseline" in out for out in outputs) == 1, outputs
    assert all(f"database schema at revision {head_revision()}" in out for out in outputs)
    assert current_revision(database) == head_revision()
