"""Each way of tampering with the stored events that `automation audit verify` must name,
on real PostgreSQL: the runs are saved by the real event store (which writes their heads),
the checkpoints by the real outbox relay, and the verdict is the CLI's exit status and line.

The tampering runs as the database's owner with `automation.schema_change` on, as an
attacker holding the owner's password could; without it, the store refuses (last test)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from typing import Any, Iterator

import asyncpg
import psycopg
import pytest

from services.pipeline.adapters.audit_checkpoints import LOGGED_EVENTS, CheckpointWriter, logged_event
from services.pipeline.adapters.event_store import RunStore
from services.pipeline.adapters.outbox_relay import OutboxRelay
from services.pipeline.domain.audit_checkpoint import Checkpoint, next_checkpoint
from services.pipeline.domain.run import AutomationRun
from shared.events.hashchain import chain_hash, run_event_content
from shared.infra.db import create_pool
from shared.infra.migrate import upgrade
from shared.infra.settings import Settings
from tests.support.stack import ROOT, SESSION, drop_database, fresh_database, migrated_database

pytestmark = pytest.mark.integration
KEY = "the-audit-key-nobody-else-has"
EVENTS_PER_RUN = 5


class Trail:
    """Four runs: each of the first three followed by a relay pass (so by a checkpoint of its
    own: checkpoint n covers run n), the fourth after the last checkpoint."""

    def __init__(self, url: str, key: str | None) -> None:
        self.url, self.key = url, key
        self.runs: list[str] = []

    def verify(self, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DATABASE_URL": self.url}
        env.pop("AUDIT_KEY", None)
        if key or self.key:
            env["AUDIT_KEY"] = key or self.key or ""
        return subprocess.run([sys.executable, "-m", "services.cli", "audit", "verify", *args], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=120)

    def rows(self, run_id: str) -> list[Any]:
        with psycopg.connect(self.url) as conn:
            return conn.execute("SELECT originator_version, topic, state FROM automation_events"
                                " WHERE originator_id = %s ORDER BY originator_version", (uuid.UUID(run_id),)).fetchall()


def as_owner(url: str, *statements: tuple[str, tuple[Any, ...]]) -> None:
    """Rewrite the append-only tables as only a migration should."""
    with psycopg.connect(url) as conn:
        conn.execute("SET LOCAL automation.schema_change = 'on'")
        for sql, params in statements:
            conn.execute(sql, params)


def _record_run(store: RunStore) -> str:
    run_id, now = str(uuid.uuid4()), datetime.now(timezone.utc)
    run = AutomationRun.start(run_id=run_id, site_id="site", account_id="acct", trigger_type="manual",
                              config={}, reserved_credits=0, estimated_credits=0, now=now)
    run.start_stage(1, 3, now)
    run.pause("operator", now)
    run.resume(now)
    run.cancel("operator", now)
    store.save_with(run)
    return run_id


async def _build(url: str, key: str | None) -> Trail:
    trail = Trail(url, key)
    store = RunStore.from_settings(Settings(database_url=url))
    pool = await create_pool(url)
    leader = await asyncpg.connect(url)

    async def publish(envelope: dict, site: str) -> Any:
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    writer = CheckpointWriter(key.encode() if key else None, every_events=1, every_seconds=3600)
    relay = OutboxRelay(store, pool, publish, url, writer)
    try:
        position = 0
        for _ in range(3):
            trail.runs.append(await asyncio.to_thread(_record_run, store))
            position = await relay.relay_once(leader, position)
        trail.runs.append(await asyncio.to_thread(_record_run, store))
    finally:
        await leader.close()
        await pool.close()
        store.close()
    return trail


@pytest.fixture
def build() -> Iterator[Any]:
    names: list[str] = []

    def trail_with(key: str | None) -> Trail:
        names.append(f"automation_test_tamper_{uuid.uuid4().hex[:6]}_{SESSION}")
        return asyncio.run(_build(migrated_database(names[-1]), key))

    yield trail_with
    for name in names:
        drop_database(name)


@pytest.fixture
def trail(build) -> Trail:
    return build(None)


@pytest.fixture
def keyed_trail(build) -> Trail:
    return build(KEY)


@pytest.mark.parametrize("key", [None, KEY], ids=["no-key", "key"])
def test_an_intact_trail_verifies_with_its_checkpoints(build, key: str | None) -> None:
    trail = build(key)
    with psycopg.connect(trail.url) as conn:
        checkpoints = conn.execute("SELECT number, from_id, to_id, event_count, keyed FROM audit_checkpoints"
                                   " ORDER BY number").fetchall()
        heads = conn.execute("SELECT run_id::text, sequence FROM audit_run_heads").fetchall()
    assert [(n, count, keyed) for n, _, _, count, keyed in checkpoints] == [
        (n, EVENTS_PER_RUN, trail.key is not None) for n in (1, 2, 3)]
    assert all(later[1] == earlier[2] for earlier, later in zip(checkpoints, checkpoints[1:]))
    assert sorted(heads) == sorted((run, EVENTS_PER_RUN) for run in trail.runs)
    intact = trail.verify()
    assert intact.returncode == 0, intact.stderr
    assert "4 run(s) checked" in intact.stderr


def test_a_truncated_tail_is_named(trail: Trail) -> None:
    run = trail.runs[0]
    as_owner(trail.url, ("DELETE FROM automation_events WHERE originator_id = %s AND originator_version > 3",
                         (uuid.UUID(run),)))
    cut = trail.verify()
    assert cut.returncode == 1
    assert (f"run {run}: truncated tail: its head is at sequence {EVENTS_PER_RUN} but the last stored event is 3"
            in cut.stderr)
    assert trail.verify("--run", run).returncode == 1


def test_a_run_deleted_with_its_head_is_named_by_its_checkpoint(trail: Trail) -> None:
    run = trail.runs[1]
    as_owner(trail.url, ("DELETE FROM automation_events WHERE originator_id = %s", (uuid.UUID(run),)),
             ("DELETE FROM audit_run_heads WHERE run_id = %s", (uuid.UUID(run),)))
    gone = trail.verify()
    assert gone.returncode == 1
    assert "checkpoint 2 (notification ids (" in gone.stderr
    assert f"(0 events now, {EVENTS_PER_RUN} when it was written)" in gone.stderr


def test_a_run_deleted_under_its_head_is_named(trail: Trail) -> None:
    run = trail.runs[3]  # after the last checkpoint: only its head remembers it
    as_owner(trail.url, ("DELETE FROM automation_events WHERE originator_id = %s", (uuid.UUID(run),)))
    gone = trail.verify()
    assert gone.returncode == 1
    assert f"run {run}: deleted run: its head is at sequence {EVENTS_PER_RUN} but it has no events" in gone.stderr
    assert trail.verify("--run", run).returncode == 1


def test_an_altered_event_is_named(trail: Trail) -> None:
    run = trail.runs[2]
    version, _, state = trail.rows(run)[1]
    altered = json.loads(bytes(state))
    altered["data"]["items_total"] = 30
    as_owner(trail.url, ("UPDATE automation_events SET state = %s WHERE originator_id = %s"
                         " AND originator_version = %s", (json.dumps(altered).encode(), uuid.UUID(run), version)))
    found = trail.verify()
    assert found.returncode == 1
    assert f"run {run}: event 2 (StageStarted) at position 2: content_altered" in found.stderr


def _rehash_run(trail: Trail, run: str) -> None:
    """Alter event 2, then re-link every event after it and move the head to the new end:
    the run's chain and head are consistent again."""
    prev_hash, statements = None, []
    for version, topic, state in trail.rows(run):
        event = json.loads(bytes(state))
        if version == 2:
            event["data"]["items_total"] = 30
        if prev_hash is not None:
            event["prev_hash"] = prev_hash
        content = run_event_content(run, version, topic.split(":")[1], event["occurred_at"], event["data"])
        event["hash"] = prev_hash = chain_hash(event["prev_hash"], content)
        statements.append(("UPDATE automation_events SET state = %s WHERE originator_id = %s"
                           " AND originator_version = %s", (json.dumps(event).encode(), uuid.UUID(run), version)))
    statements.append(("UPDATE audit_run_heads SET hash = %s WHERE run_id = %s", (prev_hash, uuid.UUID(run))))
    as_owner(trail.url, *statements)


def _recompute_checkpoints(trail: Trail, key: bytes | None, start: int) -> None:
    """Re-hash checkpoints ``start``… over the events now stored, as the writer would with ``key``."""
    with psycopg.connect(trail.url) as conn:
        rows = conn.execute("SELECT number, from_id, to_id, event_count, prev_hash, hash, keyed"
                            " FROM audit_checkpoints ORDER BY number").fetchall()
        previous: Checkpoint | None = None
        statements = []
        for row in rows:
            checkpoint = Checkpoint(*row)
            if checkpoint.number >= start:
                with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
                    events = cur.execute(LOGGED_EVENTS.format("%s", "%s"),
                                         (checkpoint.from_id, checkpoint.to_id)).fetchall()
                checkpoint = next_checkpoint(previous, checkpoint.to_id, map(logged_event, events), key)
                statements.append(("UPDATE audit_checkpoints SET prev_hash = %s, hash = %s, keyed = %s"
                                   " WHERE number = %s",
                                   (checkpoint.prev_hash, checkpoint.hash, checkpoint.keyed, checkpoint.number)))
            previous = checkpoint
    as_owner(trail.url, *statements)


def test_a_rehashed_chain_passes_without_a_key(trail: Trail) -> None:
    """The documented limitation: without AUDIT_KEY, whoever can write the database can
    recompute every hash, checkpoints included."""
    run = trail.runs[1]
    _rehash_run(trail, run)
    found = trail.verify()
    assert found.returncode == 1 and "checkpoint 2 (notification ids (" in found.stderr
    _recompute_checkpoints(trail, None, start=2)
    assert trail.verify().returncode == 0


@pytest.mark.parametrize("attacker_key", [None, b"a guess"], ids=["plain", "guessed-key"])
def test_a_rehashed_chain_is_caught_with_a_key(keyed_trail: Trail, attacker_key: bytes | None) -> None:
    run = keyed_trail.runs[1]
    _rehash_run(keyed_trail, run)
    assert keyed_trail.verify("--run", run).returncode == 0  # its chain and head agree again
    _recompute_checkpoints(keyed_trail, attacker_key, start=2)
    found = keyed_trail.verify()
    assert found.returncode == 1
    assert "checkpoint 2 (notification ids (" in found.stderr
    reason = "is a plain hash, but AUDIT_KEY is set" if attacker_key is None else "its HMAC does not verify"
    assert reason in found.stderr
    unkeyed = keyed_trail.verify(key="not-the-key")
    assert unkeyed.returncode == 1 and "checkpoint 1 (" in unkeyed.stderr


REWRITES = (
    "UPDATE automation_events SET state = state",
    "DELETE FROM automation_events WHERE originator_version = 5",
    "TRUNCATE automation_events",
    "UPDATE audit_checkpoints SET hash = hash",
    "DELETE FROM audit_checkpoints",
    "TRUNCATE audit_checkpoints",
    "DELETE FROM audit_run_heads",
    "UPDATE audit_run_heads SET sequence = sequence - 1",
)


def test_the_applications_connections_cannot_rewrite_stored_events(trail: Trail) -> None:
    for statement in REWRITES:
        with psycopg.connect(trail.url) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only|only moves forward"):
                conn.execute(statement)
    assert trail.verify().returncode == 0


def test_runs_stored_before_the_heads_get_theirs_from_the_migration() -> None:
    name = f"automation_test_tamper_{uuid.uuid4().hex[:6]}_{SESSION}"
    url = fresh_database(name)
    try:
        upgrade(url, "0004_live_stream")
        now = datetime.now(timezone.utc)
        run = AutomationRun.start(run_id=str(uuid.uuid4()), site_id="site", account_id="acct",
                                  trigger_type="manual", config={}, reserved_credits=0, estimated_credits=0, now=now)
        run.start_stage(1, 3, now)
        store = RunStore.from_settings(Settings(database_url=url))
        stored = [store.mapper.to_stored_event(event) for event in run.collect_events()]
        store.close()
        with psycopg.connect(url) as conn:  # as the code of the time wrote them: no head
            for event in stored:
                conn.execute("INSERT INTO automation_events (originator_id, originator_version, topic, state)"
                             " VALUES (%s, %s, %s, %s)",
                             (event.originator_id, event.originator_version, event.topic, event.state))
        upgrade(url)
        with psycopg.connect(url) as conn:
            head = conn.execute("SELECT run_id::text, sequence, hash FROM audit_run_heads").fetchall()
        assert head == [(run.run_id, 2, run.last_hash)]
        assert Trail(url, None).verify().returncode == 0
    finally:
        drop_database(name)
