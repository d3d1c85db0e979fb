"""`make up` (infra/app.sh) starts a pipeline process per PIPELINE_PROCESSES beside the
other services, they share the consumer group, and `make down` leaves no process behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.client import Api
from tests.support.stack import ROOT, Stack, wait_for_text

pytestmark = pytest.mark.e2e
LABELS = ["api", "pipeline", "pipeline-2", "projector", "scheduler"]


def _app_sh(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(ROOT / "infra" / "app.sh"), command], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_up_runs_one_pipeline_per_process_asked_and_down_stops_them_all(tmp_path: Path) -> None:
    # The stack's database, topics and environment, its processes started by app.sh instead.
    stack = Stack("makeup")
    env = {
        **stack.env,
        "RUN_DIR": str(tmp_path),
        "PYTHON_BIN": sys.executable,
        "PIPELINE_PROCESSES": "2",
        # No /metrics servers: their default ports would collide with a `make up` already
        # running on this machine. Which port each process gets is not what this test is about.
        "INSTRUMENTATION": "false",
    }
    pids: dict[str, int] = {}
    try:
        up = _app_sh("up", env)
        assert up.returncode == 0, up.stdout + up.stderr
        pids = {label: int((tmp_path / f"{label}.pid").read_text()) for label in LABELS}
        assert all(_alive(pid) for pid in pids.values()), pids
        for label in ("pipeline", "pipeline-2"):
            cmdline = Path(f"/proc/{pids[label]}/cmdline").read_bytes().split(b"\0")
            assert b"services.pipeline" in cmdline, cmdline
            wait_for_text(tmp_path / f"{label}.log", "assigned to partitions", timeout=60)

        api = Api(stack.base_url)
        tenant = api.small_site()
        assert api.wait_status(tenant, api.start_run(tenant), "completed", "failed", timeout=120)["status"] == "completed"

        again = _app_sh("up", env)  # idempotent: nothing started twice
        assert again.returncode == 0 and again.stdout.count("already running") == len(LABELS), again.stdout
    finally:
        down = _app_sh("down", env)
        stack.__exit__()  # its topics and database; it started no process of its own
    assert down.returncode == 0, down.stdout + down.stderr
    assert pids and not any(_alive(pid) for pid in pids.values())
    assert not list(tmp_path.glob("*.pid"))


@pytest.mark.parametrize("processes", ["0", "two", "-1"])
def test_up_refuses_a_pipeline_count_that_is_not_a_whole_number_and_starts_nothing(tmp_path: Path,
                                                                                    processes: str) -> None:
    env = {**os.environ, "RUN_DIR": str(tmp_path), "PYTHON_BIN": sys.executable, "PIPELINE_PROCESSES": processes}
    up = _app_sh("up", env)
    assert up.returncode != 0
    assert f"PIPELINE_PROCESSES must be a whole number ≥ 1, not '{processes}'" in up.stderr
    assert not list(tmp_path.iterdir())
