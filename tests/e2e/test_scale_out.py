"""Two pipeline processes in one consumer group share the sites, and survive each other."""

from __future__ import annotations

import signal

import psycopg
import pytest

from tests.support.client import Api
from tests.support.stack import Stack, wait_for_text

pytestmark = pytest.mark.e2e
SITES = 16  # with 6 partitions over 2 members, all on one member has odds of 2^-15


def _log(stack: Stack, label: str) -> str:
    return stack.log_path(label).read_text()


def _accepted_starts(stack: Stack, label: str) -> int:
    return sum(1 for line in _log(stack, label).splitlines() if "StartRun" in line and ": accepted" in line)


def _wait_for_line(stack: Stack, label: str, text: str) -> None:
    wait_for_text(stack.log_path(label), text)


def test_runs_spread_over_two_pipelines_and_move_when_one_dies() -> None:
    with Stack("pair", OFFLINE_AI_LATENCY_MS="200") as stack:
        stack.start_process("pipeline2", "services.pipeline")
        api = Api(stack.base_url)
        tenants = [api.small_site(stage_1_batch_size=2) for _ in range(SITES)]
        _wait_for_line(stack, "pipeline2", "assigned to partitions")
        runs = [(tenant, api.start_run(tenant)) for tenant in tenants]
        assert _accepted_starts(stack, "pipeline") > 0 and _accepted_starts(stack, "pipeline2") > 0

        stack.kill("pipeline2", signal.SIGKILL)
        _wait_for_line(stack, "pipeline", "carrying on")  # the survivor took over the dead one's runs
        finished = [api.wait_status(tenant, run_id, "completed", "failed", timeout=120) for tenant, run_id in runs]
        assert {run["status"] for run in finished} == {"completed"}
        for run in finished:  # each item of each stage done exactly once, whoever carried it
            for result in run["stage_results"].values():
                assert result["items_processed"] + result["items_failed"] == result["items_total"], result
        for tenant, _ in runs:
            content = api.listing(tenant, "content")["items"]
            assert len(content) == api.listing(tenant, "tasks")["total"]
            assert all(c["status"] == "review" for c in content)

        with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
            for run in finished:
                debited = conn.execute(
                    "SELECT COALESCE(sum(amount), 0) FROM credit_ledger WHERE run_id = %s AND kind = 'debit'",
                    (run["run_id"],),
                ).fetchone()[0]
                assert debited == run["total_credits_used"]
            per_task = conn.execute("SELECT max(n) FROM (SELECT count(*) AS n FROM content GROUP BY task_id) c").fetchone()[0]
            assert per_task == 1
