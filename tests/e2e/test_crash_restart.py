"""Killing processes mid-run loses nothing and repeats nothing."""

from __future__ import annotations

import signal
import uuid
from typing import Iterator

import psycopg
import pytest

from tests.support.client import Api, Tenant
from tests.support.keywords import keyword_set
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def slow_stack() -> Iterator[Stack]:
    with Stack("crash", OFFLINE_AI_LATENCY_MS="40") as running:
        yield running


def _store_counts(stack: Stack, run_id: str) -> dict[str, int]:
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
        events = conn.execute(
            "SELECT count(*) FROM automation_events WHERE originator_id = %s", (uuid.UUID(run_id),)
        ).fetchone()[0]
        debits = conn.execute(
            "SELECT COALESCE(sum(amount), 0), count(*) FROM credit_ledger WHERE run_id = %s AND kind = 'debit'",
            (run_id,),
        ).fetchone()
        projected = conn.execute("SELECT count(*) FROM run_events WHERE run_id = %s", (run_id,)).fetchone()[0]
        lines = conn.execute("SELECT count(*) FROM run_log_lines WHERE run_id = %s", (run_id,)).fetchone()[0]
    return {"events": events, "debited": int(debits[0]), "debits": debits[1], "projected": projected, "lines": lines}


def _start(api: Api, tenant: Tenant) -> str:
    api.import_keywords(tenant, keyword_set())
    api.configure(tenant, within_stage_delay=0, between_stage_delay=0, stage_1_batch_size=5, ai_concurrency=16)
    answer = api.run_now(tenant)
    assert answer.status_code == 202, answer.text
    return answer.json()["run_id"]


def test_pipeline_killed_mid_stage_finishes_the_run_exactly_once(slow_stack: Stack) -> None:
    api = Api(slow_stack.base_url)
    tenant = api.tenant(credits=10_000)
    run_id = _start(api, tenant)
    api.wait_run(tenant, run_id, lambda run: run["stage_results"].get("4", {}).get("items_processed", 0) >= 2)

    slow_stack.kill("pipeline", signal.SIGKILL)
    slow_stack.kill("projector", signal.SIGKILL)
    slow_stack.start_process("projector", "services.projector")
    slow_stack.start_process("pipeline", "services.pipeline")

    run = api.wait_status(tenant, run_id, "completed", timeout=120)
    counts = _store_counts(slow_stack, run_id)
    # every recorded event reached the read model once, none was lost, none doubled
    assert counts["projected"] == counts["events"] == counts["lines"]
    events = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
    assert [e["sequence"] for e in events] == list(range(1, counts["events"] + 1))

    # no output twice: one task per idea, one content per task, one featured image per content
    ideas, tasks = api.listing(tenant, "ideas"), api.listing(tenant, "tasks")
    content, images = api.listing(tenant, "content"), api.listing(tenant, "images")
    assert tasks["total"] == ideas["total"]
    assert content["total"] == tasks["total"]
    featured = [i for i in images["items"] if i["kind"] == "featured"]
    assert sorted(i["content_id"] for i in featured) == sorted(c["id"] for c in content["items"])
    assert all(c["status"] == "review" for c in content["items"])

    # independent of the write path: every stage did each of its items exactly once
    for result in run["stage_results"].values():
        assert result["items_processed"] + result["items_failed"] == result["items_total"], result
    clusters = api.listing(tenant, "clusters")["items"]
    assert all(cluster["keyword_ids"] for cluster in clusters)
    assert run["stage_results"]["1"]["outputs_created"] == len(clusters)
    generated = [i for i in images["items"] if i["status"] == "generated"]
    assert run["stage_results"]["6"]["credits_used"] == 3 * len(generated)
    ready = [e["data"]["content_id"] for e in events if e["type"] == "ContentReadyForReview"]
    assert sorted(ready) == sorted(c["id"] for c in content["items"])

    # no charge twice: the ledger, the run and the stage results agree
    assert counts["debited"] == run["total_credits_used"] > 0
    assert sum(r["credits_used"] for r in run["stage_results"].values()) == run["total_credits_used"]
    completed = [e for e in events if e["type"] == "StageCompleted"]
    assert [e["data"]["stage"] for e in completed] == list(range(1, 8))
