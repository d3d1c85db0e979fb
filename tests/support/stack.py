"""Real service processes for end-to-end tests, each stack on its own database and topics."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx
import psycopg

from shared.infra.migrate import upgrade
from shared.infra.settings import Settings
from shared.infra.topics import delete_topics

ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = ROOT / ".run" / "tests"
SESSION = uuid.uuid4().hex[:8]
ADMIN_TOKEN = "test-admin-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_database_url() -> str:
    """The test server as the schema's owner, who makes, migrates and drops the scratch databases."""
    return Settings().migration_database_url


def app_database_url(name: str, app_server: str | None = None) -> str:
    """Database ``name`` as the services' role: DATABASE_URL's (``automation_app`` by default),
    or ``app_server``'s."""
    return with_database(app_server or Settings().database_url, name)


def with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def fresh_database(name: str, server: str | None = None) -> str:
    """Drop and create database ``name`` on the test server (or ``server``); returns its URL."""
    drop_database(name, server)
    base = server or base_database_url()
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(base, name)


def migrated_database(name: str, server: str | None = None) -> str:
    """A fresh database ``name`` at the head revision, as `make services` leaves one."""
    url = fresh_database(name, server)
    upgrade(url)
    return url


def drop_database(name: str, server: str | None = None, attempts: int = 20) -> None:
    """Drop ``name`` even with sessions on it. An autovacuum worker on it belongs to the
    superuser, which our role may not terminate: wait for the worker to finish instead."""
    for attempt in range(attempts):
        try:
            with psycopg.connect(server or base_database_url(), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def wait_for_text(log: Path, text: str, timeout: float = 30.0) -> None:
    """Until a process's log file holds ``text``; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (log.exists() and text in log.read_text(errors="replace")):
        assert time.monotonic() < deadline, f"{log.name} never logged {text!r}"
        time.sleep(0.1)


class Stack:
    """api + pipeline(s) + projector against one fresh database and a private topic prefix."""

    def __init__(self, name: str, server: str | None = None, app_server: str | None = None, **env: str) -> None:
        """``server``: the PostgreSQL to make the stack's database on as its owner, if not the
        shared one; ``app_server``: that server as the services' role. The processes connect
        as the services' role and know no other, as deployed; ``owner_url`` is the database as
        its owner, for tests that play an attacker or break the schema."""
        self.name = name
        self.server = server
        # Per session too: teammates' test sessions share the server and must not drop each other's.
        self.database = f"automation_test_{name}_{SESSION}"
        self.port = free_port()
        self.owner_url = migrated_database(self.database, server)
        self.env = {
            **os.environ,
            "DATABASE_URL": app_database_url(self.database, app_server),
            "KAFKA_TOPIC_PREFIX": f"test-{SESSION}-{name}.",
            "AUTOMATION_ADMIN_TOKEN": ADMIN_TOKEN,
            "API_HOST": "127.0.0.1",
            "API_PORT": str(self.port),
            "AI_PROVIDER": "offline",
            "KAFKA_SESSION_TIMEOUT_MS": "6000",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.metrics_ports: dict[str, int] = {}  # by label; the API serves /metrics on its own port
        self.base_url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Stack":
        try:
            return self.start()
        except BaseException:
            self.__exit__()  # a stack that failed to start leaves no process or database
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
        drop_database(self.database, self.server)

    def start(self) -> "Stack":
        self.start_process("projector", "services.projector")
        self.start_process("pipeline", "services.pipeline")
        self.start_process("api", "services.api")
        self.wait_ready()
        return self

    def start_process(self, label: str, module: str, **env: str) -> subprocess.Popen[bytes]:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path(label), "ab")
        # Each process its own free port: two pipelines, or teammates' stacks, never collide.
        self.metrics_ports[label] = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", module], cwd=ROOT,
            env={**self.env, "METRICS_PORT": str(self.metrics_ports[label]), **env},
            stdout=log, stderr=subprocess.STDOUT,
        )
        self.procs[label] = proc
        return proc

    def log_path(self, label: str) -> Path:
        """Where the stack's process ``label`` writes its output."""
        return LOG_DIR / f"{SESSION}-{self.name}-{label}.log"

    def metrics_url(self, label: str) -> str:
        if label == "api":
            return f"{self.base_url}/metrics"
        return f"http://127.0.0.1:{self.metrics_ports[label]}/metrics"

    def kill(self, label: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(label)
        proc.send_signal(sig)
        proc.wait(timeout=30)

    def wait_ready(self, timeout: float = 60.0, base_url: str | None = None) -> None:
        """Until ``base_url`` (the stack's API unless given) answers /readyz, while every process lives."""
        base_url = base_url or self.base_url
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for label, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{label} exited with {proc.returncode}: see {LOG_DIR}")
            try:
                if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"stack {self.name} ({base_url}) not ready in {timeout}s")

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
        # The stack's private topics would otherwise pile up on the shared local broker.
        asyncio.run(delete_topics(Settings(kafka_topic_prefix=self.env["KAFKA_TOPIC_PREFIX"],
                                           kafka_bootstrap_servers=self.env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))))
