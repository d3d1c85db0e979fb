"""``automation demo`` / ``make demo``: the whole seven-stage pipeline for a sample site.

Embedded by default: one process, one SQLite file under ``demo-output/``, the in-process
bus, the offline AI. ``--external`` runs the same story against the running services
(see ``services/demo/external.py``); ``--serve`` adds a read-only HTTP API over the
embedded read models (see ``services/demo/serve.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from services.demo import outputs as output_files
from services.demo.embedded import Embedded
from services.demo.progress import StageProgress
from services.demo.sample import Sample, sample_keywords, seed
from services.demo.summary import Outputs, print_summary
from services.projector.sqlite_writer import read_view
from shared.events.commands import StartRun

DB_NAME = "demo.sqlite3"
POLL_SECONDS = 0.1


@dataclass
class DemoResult:
    run: dict[str, Any]
    sample: Sample
    command: StartRun
    db_path: Path
    outputs: Outputs
    wall_seconds: float


def fresh_output(out_dir: Path) -> Path:
    """Each demo starts from an empty store, so it always has the whole sample to work on."""
    for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm"):
        (out_dir / name).unlink(missing_ok=True)
    for sub in ("articles", "images"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir / DB_NAME


async def run_embedded(
    out_dir: Path, console: Console, keyword_limit: int | None = None,
    on_ready: Callable[[Path, Sample], None] | None = None,
) -> DemoResult:
    started = time.monotonic()
    db_path = fresh_output(out_dir)
    pipeline = Embedded.open(db_path)
    try:
        with pipeline.store.cursor(commit=True) as cur:
            sample = seed(cur, sample_keywords(keyword_limit))
        console.print(f"Sample account with {sample.credits} credits; site with {sample.keywords} keywords.")
        if on_ready:
            on_ready(db_path, sample)
        command = StartRun(site_id=sample.site_id, account_id=sample.account_id, run_id=str(uuid.uuid4()))
        run = await _run(pipeline, command, console)
        with pipeline.store.cursor() as cur:
            names = output_files.export(cur, sample, out_dir)
            outputs = output_files.describe(cur, sample, out_dir, db_path, names)
    finally:
        await pipeline.close()
    return DemoResult(run, sample, command, db_path, outputs, time.monotonic() - started)


async def _run(pipeline: Embedded, command: StartRun, console: Console) -> dict[str, Any]:
    relay = asyncio.create_task(pipeline.relay.run(), name="in-process-relay")
    try:
        decision = await pipeline.send(command)
        if decision.outcome != "accepted":
            raise SystemExit(f"the run was refused: {decision.error_code}: {decision.message}")
        with StageProgress(console) as bars:
            while True:
                if relay.done():  # the relay stopped on an error: say so rather than wait forever
                    relay.result()
                run = await asyncio.to_thread(_view, pipeline, command.run_id)
                bars.update(run)
                if run is not None and run["status"] != "running":
                    break
                await asyncio.sleep(POLL_SECONDS)
    finally:
        relay.cancel()
        await asyncio.gather(relay, return_exceptions=True)
    await pipeline.relay.catch_up()
    return await asyncio.to_thread(_view, pipeline, command.run_id)


def _view(pipeline: Embedded, run_id: str) -> dict[str, Any] | None:
    with pipeline.store.cursor() as cur:
        return read_view(cur, run_id)[0]


def run_demo(args: argparse.Namespace) -> int:
    console = Console()
    if getattr(args, "external", False):
        from services.demo.external import run_external

        return run_external(args, console)
    out_dir = Path(getattr(args, "output", None) or "demo-output")
    server = None
    on_ready = None
    if getattr(args, "serve", False):
        from services.demo.serve import DemoServer

        server = DemoServer(console)
        on_ready = server.start
    result = asyncio.run(run_embedded(out_dir, console, getattr(args, "keywords", None), on_ready))
    print_summary(console, result.run, result.wall_seconds, result.outputs)
    if server is not None:
        server.serve_until_interrupted()
    return 0 if result.run["status"] == "completed" else 1
