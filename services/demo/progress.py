"""A live progress bar per stage, drawn from a run as the read model shows it.

It reads only the contract's Run shape (``status``, ``stage_results``) of ``GET /runs/{id}``,
which the embedded demo and ``--external`` both poll.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from shared.stages import STAGES


class StageProgress:
    def __init__(self, console: Console) -> None:
        # Sized to fit 80 columns; failures show only when there are some.
        self.progress = Progress(
            TextColumn("[bold]{task.description:<26}"),
            BarColumn(bar_width=18),
            MofNCompleteColumn(),
            TextColumn("{task.fields[credits]:>5} credits"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[failed]}"),
            console=console,
        )
        # Hidden until the stage starts, so waiting stages don't look busy.
        self.tasks: dict[int, TaskID] = {
            stage: self.progress.add_task(f"{stage} {name}", total=None, start=False, visible=False,
                                          failed="", credits=0)
            for stage, name in ((s.number, s.name) for s in STAGES)
        }

    def __enter__(self) -> "StageProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, run: dict[str, Any] | None) -> None:
        for key, result in ((run or {}).get("stage_results") or {}).items():
            task = self.tasks[int(key)]
            if not self.progress.tasks[task].started:
                self.progress.start_task(task)
            done = result["items_processed"] + result["items_failed"]
            self.progress.update(
                task, visible=True, total=max(result["items_total"], done), completed=done,
                failed=f"[red]{result['items_failed']} failed[/red]" if result["items_failed"] else "",
                credits=result["credits_used"],
            )
            if result.get("completed_at") and self.progress.tasks[task].stop_time is None:
                self.progress.stop_task(task)
