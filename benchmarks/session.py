"""What the figures of one ``make bench`` share: one real stack at a time, and results
that a later figure compares against (the ratios)."""

from __future__ import annotations

import signal
import time
from typing import Any

import psycopg

from tests.support.stack import ROOT, Stack, drop_database

# Every stack's environment. Run control and admissions far beyond any per-account API
# limit: the benchmark measures the pipeline, not the limiter.
BASE_ENV = {"API_RATE_LIMIT_PER_MINUTE": "1000000"}
# Settings only the pipeline process reads: changing them restarts that process alone.
PIPELINE_ONLY = {"OFFLINE_AI_LATENCY_MS"}


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

    def stack(self, name: str, *, fresh: bool = False, **env: str) -> Stack:
        """A running stack (api, pipeline, projector) on a fresh database with ``env``.
        The previous figure's is reused if its environment is the same, or differs only in
        what the pipeline process alone reads and its runs have ended (then the pipeline is
        restarted with the new one); otherwise, or when ``fresh``, it is stopped first, so
        that only one stack takes the machine at a time."""
        wanted = {**BASE_ENV, **env}
        if self._stack is not None and self._alive(self._stack) and not (fresh and self._stack_env != wanted):
            if self._stack_env == wanted:
                return self._stack
            if self._differs_in_pipeline_only(wanted) and _idle(self._stack):
                self._stack.kill("pipeline", signal.SIGTERM)
                self._stack.start_process("pipeline", "services.pipeline", **wanted)
                self._stack_env = wanted
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

    def _differs_in_pipeline_only(self, wanted: dict[str, str]) -> bool:
        changed = {k for k in wanted.keys() | self._stack_env.keys() if wanted.get(k) != self._stack_env.get(k)}
        return changed <= PIPELINE_ONLY

    @staticmethod
    def _alive(stack: Stack) -> bool:
        return all(proc.poll() is None for proc in stack.procs.values())


def _idle(stack: Stack, timeout: float = 30.0) -> bool:
    """Whether the stack's runs have all ended (within ``timeout``), so that a restarted
    pipeline adopts none of an earlier figure's runs."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as conn:
        while time.monotonic() < deadline:
            if not conn.execute("SELECT 1 FROM pipeline_runs WHERE status IN ('running', 'paused')").fetchone():
                return True
            time.sleep(0.2)
    return False


def _dispose(stack: Stack) -> None:
    try:
        stack.stop()
    finally:
        drop_database(stack.database)
