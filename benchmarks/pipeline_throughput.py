"""Pipeline throughput end to end, and whether a batch costs the same late in a long run.

Runs the shipped sample site (a few hundred keywords) through real processes on
PostgreSQL and Kafka with zero-latency offline AI, so what is measured is the
pipeline's own overhead per item: Kafka, event store, outputs, projection. Then
replays the read models from the event store and reports its speed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import datetime

from rich.console import Console
from rich.table import Table

from tests.support.client import Api
from tests.support.samples import sample_keywords
from tests.support.stack import ROOT, Stack, drop_database

console = Console()


def _seconds(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _batch_gaps(events: list[dict]) -> tuple[int, float, float]:
    """Within the stage with most batches (same work per batch): median ms between
    batches in its first and its last quarter. Equal figures mean a run's growing
    history does not slow each batch down."""
    by_stage: dict[int, list[float]] = {}
    for event in events:
        if event["type"] == "BatchProcessed":
            by_stage.setdefault(event["data"]["stage"], []).append(_seconds(event["occurred_at"]))
    stage, times = max(by_stage.items(), key=lambda item: len(item[1]))
    gaps = [(b - a) * 1000 for a, b in zip(times, times[1:])]
    quarter = max(1, len(gaps) // 4)
    return stage, statistics.median(gaps[:quarter]), statistics.median(gaps[-quarter:])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.pipeline_throughput")
    parser.add_argument("--keywords", type=int, default=0, help="use only the first N sample keywords")
    args = parser.parse_args(argv)
    stack = Stack("bench-pipeline").start()
    try:
        api = Api(stack.base_url)
        tenant = api.tenant(credits=10**9)
        keywords = sample_keywords(args.keywords or None)
        api.call(tenant.token, "POST", f"/api/v1/sites/{tenant.site_id}/keywords", json={"keywords": keywords})
        api.configure(tenant, within_stage_delay=0, between_stage_delay=0)
        started = time.perf_counter()
        run_id = api.run_now(tenant).json()["run_id"]
        run = api.wait_status(tenant, run_id, "completed", "failed", timeout=1800)
        wall = time.perf_counter() - started
        events = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
        items = sum(r["items_processed"] + r["items_failed"] for r in run["stage_results"].values())
        stage, early, late = _batch_gaps(events)

        replay_started = time.perf_counter()
        replayed = subprocess.run([sys.executable, "-m", "services.cli", "replay"], cwd=ROOT, env=stack.env,
                                  capture_output=True, text=True, check=True)
        replay_wall = time.perf_counter() - replay_started
    finally:
        stack.stop()
        drop_database(stack.database)

    table = Table(title=f"Pipeline, zero-latency offline AI, {len(keywords)} keywords (run {run['status']})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("wall time, run_now to completed", f"{wall:.1f} s")
    table.add_row("items processed (all stages)", str(items))
    table.add_row("items per second, end to end", f"{items / wall:.1f}")
    table.add_row("ms per item", f"{wall * 1000 / items:.1f}")
    table.add_row("events recorded", str(len(events)))
    table.add_row("events per second", f"{len(events) / wall:.0f}")
    table.add_row(f"stage {stage}: median ms per batch, first quarter", f"{early:.1f}")
    table.add_row(f"stage {stage}: median ms per batch, last quarter", f"{late:.1f}")
    table.add_row("replay of the read models (CLI, incl. start-up)", f"{replay_wall:.1f} s")
    table.add_row("replay speed", f"{len(events) / replay_wall:.0f} events/s")
    console.print(table)
    console.print(replayed.stderr.strip().splitlines()[-1] if replayed.stderr.strip() else "")


if __name__ == "__main__":
    main()
