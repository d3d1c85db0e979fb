"""The event store's append rate against the plainest write PostgreSQL can do.

Both write one row per transaction on the same server and database: the store saves one
new AutomationRun event per ``save`` (a pause, then a resume, and so on), the plain loop
INSERTs one row of the same size per autocommit statement. They alternate in rounds, so
that the machine's other load falls on both alike.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import psycopg

from services.pipeline.adapters.event_store import RunStore
from services.pipeline.domain.run import AutomationRun

ROUNDS = 5


def new_run() -> AutomationRun:
    return AutomationRun.start(
        run_id=str(uuid.uuid4()), site_id=str(uuid.uuid4()), account_id=str(uuid.uuid4()), trigger_type="manual",
        config={"within_stage_delay": 0}, reserved_credits=0, estimated_credits=0, now=datetime.now(timezone.utc),
    )


def _store_round(store: RunStore, run: AutomationRun, saves: int) -> float:
    started = time.perf_counter()
    for _ in range(saves):
        now = datetime.now(timezone.utc)
        run.resume(now) if run.status == "paused" else run.pause("benchmark", now)
        store.save(run)
    return time.perf_counter() - started


def _plain_round(conn: psycopg.Connection, payload: bytes, inserts: int) -> float:
    started = time.perf_counter()
    for _ in range(inserts):
        conn.execute("INSERT INTO bench_plain_insert (payload) VALUES (%s)", (payload,))
    return time.perf_counter() - started


def append_rates(store: RunStore, database_url: str, per_round: int) -> tuple[float, float, int]:
    """(store events/s, plain rows/s, rows written by each)."""
    run = new_run()
    store.save(run)
    payload = _event_state(store)
    store_seconds = plain_seconds = 0.0
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_plain_insert (id bigserial PRIMARY KEY, payload bytea)")
        for _ in range(ROUNDS):
            store_seconds += _store_round(store, run, per_round)
            plain_seconds += _plain_round(conn, payload, per_round)
        conn.execute("DROP TABLE bench_plain_insert")
    total = ROUNDS * per_round
    return total / store_seconds, total / plain_seconds, total


def _event_state(store: RunStore) -> bytes:
    """The stored bytes of one pause event: the plain row carries as much."""
    run = new_run()
    run.collect_events()
    run.pause("benchmark", datetime.now(timezone.utc))
    return store.mapper.to_stored_event(run.collect_events()[0]).state
