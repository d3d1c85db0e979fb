"""The demo's closing summary: a table per stage, totals, and where to look at the outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from shared.stages import STAGES


@dataclass
class Outputs:
    """What the run produced and where it is, as the mode at hand can show it."""

    places: list[tuple[str, str]] = field(default_factory=list)  # (what, where)
    samples: list[tuple[str, str]] = field(default_factory=list)  # (what, example)


def seconds_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (_parse(end) - _parse(start)).total_seconds()


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def stage_table(run: dict[str, Any], wall_seconds: float) -> Table:
    # SIMPLE_HEAD and one column for number and name: fits an 80-column terminal unwrapped.
    table = Table(title=f"Run {run['run_id']}: {run['status']}", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("stage", no_wrap=True, min_width=26)
    for header in ("items", "failed", "outputs", "credits", "time"):
        table.add_column(header, justify="right", no_wrap=True)
    results = run.get("stage_results") or {}
    totals = {"items_processed": 0, "items_failed": 0, "outputs_created": 0, "credits_used": 0}
    for stage, name in ((s.number, s.name) for s in STAGES):
        result = results.get(str(stage))
        if result is None:
            table.add_row(f"{stage} {name}", "-", "-", "-", "-", "not started")
            continue
        for key in totals:
            totals[key] += result[key]
        took = seconds_between(result["started_at"], result["completed_at"])
        table.add_row(
            f"{stage} {name}" + (" (partial)" if result["partial"] else ""),
            f"{result['items_processed']}/{result['items_total']}", str(result["items_failed"]),
            str(result["outputs_created"]), str(result["credits_used"]),
            f"{took:.2f} s" if took is not None else "running",
        )
    table.add_section()
    run_took = seconds_between(run["started_at"], run.get("completed_at") or run.get("cancelled_at"))
    table.add_row(
        "total", str(totals["items_processed"]), str(totals["items_failed"]),
        str(totals["outputs_created"]), str(run["total_credits_used"]),
        f"{run_took:.2f} s" if run_took is not None else "-",
    )
    table.caption = f"wall time of the whole demo: {wall_seconds:.1f} s"
    return table


def print_summary(console: Console, run: dict[str, Any], wall_seconds: float, outputs: Outputs) -> None:
    console.print()
    console.print(stage_table(run, wall_seconds))
    if run.get("error_message"):
        console.print(f"[red]error:[/red] {run['error_message']}")
    if run.get("pause_reason"):
        console.print(f"[yellow]paused:[/yellow] {run['pause_reason']}")
    if outputs.samples:
        console.print("\n[bold]What it made[/bold]")
        for what, example in outputs.samples:
            console.print(f"  {what}: {example}")
    if outputs.places:
        console.print("\n[bold]Where to look[/bold]")
        for what, where in outputs.places:
            console.print(f"  {what}: [cyan]{where}[/cyan]")
