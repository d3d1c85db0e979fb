"""The benchmark's output: a rich table on the terminal and ``benchmarks/results/latest.json``."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console
from rich.table import Table

from benchmarks.figures import CORES, Figure

RESULTS = Path(__file__).resolve().parent / "results"
console = Console()
if not console.is_terminal:
    console.width = 160  # a piped report keeps whole rows


def table(figures: Sequence[Figure], title: str) -> Table:
    grid = Table(title=title, show_lines=False)
    for column, justify in (("figure", "left"), ("value", "right"), ("unit", "left"), ("reps", "right"),
                            ("cores", "right"), ("note", "left")):
        grid.add_column(column, justify=justify, overflow="fold")
    for figure in figures:
        value = figure.value if isinstance(figure.value, str) else f"{figure.value:g}"
        style = "red" if isinstance(figure.value, str) and figure.value.startswith("failed") else None
        grid.add_row(figure.name, value, figure.unit, str(figure.repetitions), str(figure.cores), figure.note,
                     style=style)
    return grid


def machine() -> dict[str, Any]:
    return {"cores": CORES, "load_average": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "platform": platform.platform()}


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=RESULTS.parent, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def write_json(figures: Sequence[Figure], started: datetime, total_seconds: float,
               machine_at_start: dict[str, Any], name: str = "latest.json") -> Path:
    RESULTS.mkdir(exist_ok=True)
    document = {
        "started_at": started.isoformat(),
        "finished_at": datetime.now(timezone.utc).isoformat(),
        "total_seconds": round(total_seconds, 1),
        "commit": _commit(),
        "machine_at_start": machine_at_start,
        "machine_at_end": machine(),
        "figures": [figure.as_json() for figure in figures],
    }
    path = RESULTS / name
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
