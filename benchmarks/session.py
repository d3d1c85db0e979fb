"""What the figures of one ``make bench`` share: one real stack at a time, and results
that a later figure compares against (the ratios)."""

from __future__ import annotations

import time
from typing import Any

from tests.support.stack import ROOT, Stack, drop_database

# Every stack's environment. Run control and admissions far beyond any per-account API
# limit: the benchmark measures the pipeline, not the limiter.
BASE_ENV = {"API_RATE_LIMIT_PER_MINUTE": "1000000"}


class Session:
    def __init__(self, budget_seconds: float) -> None:
        self.started = time.monotonic()
        self.budget_seconds = budget_seconds
        self.results: dict[str, Any] = {}  # e.g. "pipeline.items_per_s.1_site" for the ratios
        self._stack: Stack | None = None
        self._stack_env: dict[str, str] = {}
        self.log_dir = ROOT / ".run" / "bench"
        self.log_dir.mkdir(parents=True, exist_ok=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        return self.budget_seconds - self.elapsed()

    def stack(self, name: str, **env: str) -> Stack:
        """A running stack (api, pipeline, projector) on a fresh database with ``env``;
        the one of the previous figure is reused if its environment is the same, and
        stopped otherwise, so that only one stack takes the machine at a time."""
        wanted = {**BASE_ENV, **env}
        if self._stack is not None and self._stack_env == wanted and self._alive(self._stack):
            return self._stack
        self.close()
        stack = Stack(f"bench_{name}", **wanted)
        try:
            stack.start()
        except BaseException:
            _dispose(stack)
            raise
        self._stack, self._stack_env = stack, wanted
        return stack

    def close(self) -> None:
        if self._stack is not None:
            stack, self._stack = self._stack, None
            _dispose(stack)

    @staticmethod
    def _alive(stack: Stack) -> bool:
        return all(proc.poll() is None for proc in stack.procs.values())


def _dispose(stack: Stack) -> None:
    try:
        stack.stop()
    finally:
        drop_database(stack.database)
