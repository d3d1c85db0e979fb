"""Saves per second of the event store in the shape of a pipeline step, and their CPU.

Each save records a run's open batch (CreditsUsed, BatchProcessed) and starts its next one
(BatchStarted), with the step's side writes: a folded insert of a few failure rows and the
batch's debit. ``runs`` runs take turns, as a busy pipeline's steps do. The figures: saves
per second; the CPU-ms per save of ``RunStore.save_with`` alone (its thread's CPU), of this
process (the events' making included) and of the PostgreSQL backends serving the scratch
database (from /proc), so that both sides of the save path show.

    .venv/bin/python -m benchmarks.save_path [--saves 3000] [--runs 20]

Run from a checkout, it measures that checkout's store (cwd first on sys.path).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import datetime, timezone

sys.path.insert(0, os.getcwd())

import psycopg  # noqa: E402

from benchmarks.cpu import cpu_seconds  # noqa: E402
from services.pipeline.adapters.event_store import RunStore  # noqa: E402
from services.pipeline.adapters.planner_writes import PgPlannerWrites  # noqa: E402
from services.pipeline.domain.run import AutomationRun  # noqa: E402
from tests.support.stores import scratch_store  # noqa: E402

ROWS = PgPlannerWrites()
FAILURES_PER_SAVE = 4


def _backends(url: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                            " AND pid <> pg_backend_pid()").fetchall()
    return [row[0] for row in rows]


def _runs(store: RunStore, account: str, count: int) -> list[tuple[AutomationRun, str]]:
    now = datetime.now(timezone.utc)
    runs = []
    for _ in range(count):
        run = AutomationRun.start(run_id=str(uuid.uuid4()), site_id="site", account_id=account,
                                  trigger_type="manual", config={}, reserved_credits=0, estimated_credits=0,
                                  now=now)
        run.start_stage(1, 10**6, now)
        batch = f"bench/{uuid.uuid4()}"
        run.start_batch(1, [{"id": "i", "title": "t"}], batch, now)
        store.save(run)
        runs.append((run, batch))
    return runs


def _step(store: RunStore, run: AutomationRun, batch: str, n: int) -> tuple[str, float]:
    """Saves the next step of ``run``; (its next batch, the save's CPU seconds)."""
    now = datetime.now(timezone.utc)
    run.process_batch(batch_id=batch, stage=1, processed=10, failures=[], outputs_created=10, credits=1, now=now)
    following = f"bench/{uuid.uuid4()}"
    run.start_batch(1, [{"id": f"i{n}", "title": "t"}], following, now)
    # Rows of one shape, folded into one statement as a step's outputs are.
    writes = [ROWS.insert("run_item_failures", {"run_id": run.run_id, "stage": 1, "item_id": f"{n}-{k}"})
              for k in range(FAILURES_PER_SAVE)]
    writes.append(ROWS.debit(run.account_id, run.run_id, 1, 1, f"{run.run_id}:batch:{batch}"))
    started = time.thread_time()
    store.save_with(run, side_writes=writes)
    return following, time.thread_time() - started


def measure(saves: int, runs: int) -> dict[str, float]:
    with scratch_store("savepath") as (url, store):
        account = f"bench-{uuid.uuid4()}"
        with store.cursor() as cur:
            cur.execute("INSERT INTO accounts (id, name, credits) VALUES (%s, 'bench', %s)", (account, 10**12))
        held = _runs(store, account, runs)
        for n in range(50):  # warm: prepared statements, column types, caches
            run, batch = held[n % runs]
            held[n % runs] = (run, _step(store, run, batch, -n - 1)[0])
        pids = _backends(url)
        backend_before = {pid: cpu_seconds(pid) for pid in pids}
        cpu_before, started, saving = time.process_time(), time.perf_counter(), 0.0
        for n in range(saves):
            run, batch = held[n % runs]
            following, spent = _step(store, run, batch, n)
            held[n % runs], saving = (run, following), saving + spent
        wall = time.perf_counter() - started
        client = time.process_time() - cpu_before
        backend = sum(cpu_seconds(pid) - backend_before[pid] for pid in pids)
    return {"saves_per_s": saves / wall, "save_with_ms_per_save": 1000 * saving / saves,
            "client_ms_per_save": 1000 * client / saves,
            "backend_ms_per_save": 1000 * backend / saves}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--saves", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    figures = measure(args.saves, args.runs)
    print("  ".join(f"{key} {value:.3f}" for key, value in figures.items()))


if __name__ == "__main__":
    main()
