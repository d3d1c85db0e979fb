"""``python -m benchmarks`` (``make bench``): every figure, one table, ``results/latest.json``.

Each measurement runs in its own try: one that fails shows its error as its value and the
others go on. Measurements run in order; one that would start past the time budget is
reported as skipped.
"""

from __future__ import annotations

import argparse
import time
import traceback
from datetime import datetime, timezone
from typing import Sequence

from benchmarks import (
    ai_bound, api_latency, control_latency, pipeline_throughput, projection_lag, rate_limit_window, ratios,
    replay_speed,
)
from benchmarks.figures import Figure, Measurement, failed
from benchmarks.report import console, machine, table, write_json
from benchmarks.session import Session

# Grouped by the stack they need, so each stack starts once.
MEASUREMENTS: list[Measurement] = [
    *ratios.STANDALONE,
    *pipeline_throughput.MEASUREMENTS,
    *ratios.AFTER_PIPELINE,
    *api_latency.MEASUREMENTS,
    *ai_bound.MEASUREMENTS,
    *projection_lag.MEASUREMENTS,
    *control_latency.MEASUREMENTS,
    *rate_limit_window.MEASUREMENTS,
    *replay_speed.MEASUREMENTS,
]


def run_one(measurement: Measurement, session: Session) -> list[Figure]:
    if session.remaining() <= 0:
        return [failed(k, n, u, f"skipped: the {session.budget_seconds:.0f} s budget was spent")
                for k, n, u in measurement.keys]
    started = time.monotonic()
    try:
        with console.status(f"{measurement.title}…"):
            figures = measurement.run(session)
    except Exception as error:  # noqa: BLE001 - any failure becomes the figure's value
        with (session.log_dir / "errors.log").open("a") as log:
            log.write(f"--- {measurement.title}\n{traceback.format_exc()}")
        reason = f"{type(error).__name__}: {str(error)[:160]}"
        figures = [failed(k, n, u, reason) for k, n, u in measurement.keys]
    console.print(f"[dim]{measurement.title}: {time.monotonic() - started:.0f} s[/dim]")
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--only", metavar="TEXT", action="append",
                        help="run only the measurements whose title contains TEXT (may be repeated)")
    parser.add_argument("--budget", type=float, default=540.0,
                        help="seconds after which no new measurement starts (default 540)")
    args = parser.parse_args(argv)
    chosen = [m for m in MEASUREMENTS if not args.only or any(text in m.title for text in args.only)]
    started_at, at_start = datetime.now(timezone.utc), machine()
    session = Session(args.budget)
    figures: list[Figure] = []
    try:
        for measurement in chosen:
            figures += run_one(measurement, session)
    finally:
        session.close()
    total = session.elapsed()
    console.print(table(figures, f"make bench: {at_start['cores']} cores, load average at start "
                                 f"{at_start['load_average'][0]}, {total:.0f} s in all"))
    # A partial run must not replace the committed figures of a whole one.
    path = write_json(figures, started_at, total, at_start, "partial.json" if args.only else "latest.json")
    console.print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
