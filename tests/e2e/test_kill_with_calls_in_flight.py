"""SIGKILL with 16 AI calls in flight: the run finishes with each output once and the balance exact."""

from __future__ import annotations

import signal
import time
import uuid

import psycopg
import pytest

from tests.support.client import Api, Tenant
from tests.support.keywords import keyword_set
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
WIDTH = 16
CREDITS = 10_000


def _sixteen_in_flight(api: Api, tenant: Tenant, run_id: str, timeout: float = 120.0) -> None:
    """Until a group of 16 images was announced and none of stage 6 was recorded yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
        stage_6 = [e for e in events if e["data"].get("stage") == 6]
        started = sum(e["data"]["item_count"] for e in stage_6 if e["type"] == "BatchStarted")
        if started >= WIDTH and not any(e["type"] == "BatchProcessed" for e in stage_6):
            return
        assert not any(e["type"] == "BatchProcessed" for e in stage_6), "stage 6 recorded work before the kill"
        time.sleep(0.02)
    raise TimeoutError("stage 6 never had 16 calls in flight")


def _ledger(stack: Stack, tenant: Tenant, run_id: str) -> tuple[int, int]:
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
        debited = conn.execute("SELECT COALESCE(sum(amount), 0) FROM credit_ledger WHERE run_id = %s AND kind = 'debit'",
                               (run_id,)).fetchone()[0]
        balance = conn.execute("SELECT credits FROM accounts WHERE id = %s", (tenant.account_id,)).fetchone()[0]
        events = conn.execute("SELECT count(*) FROM automation_events WHERE originator_id = %s",
                              (uuid.UUID(run_id),)).fetchone()[0]
        projected = conn.execute("SELECT count(*) FROM run_events WHERE run_id = %s", (run_id,)).fetchone()[0]
    assert events == projected
    return int(debited), int(balance)


def test_pipeline_killed_with_sixteen_calls_in_flight_finishes_exactly_once() -> None:
    with Stack("kill16", OFFLINE_AI_LATENCY_MS="1500") as stack:
        api = Api(stack.base_url)
        tenant = api.tenant(credits=CREDITS)
        api.import_keywords(tenant, keyword_set())
        api.configure(tenant, within_stage_delay=0, between_stage_delay=0, stage_1_batch_size=10,
                      ai_concurrency=WIDTH)
        run_id = api.run_now(tenant).json()["run_id"]
        _sixteen_in_flight(api, tenant, run_id)

        stack.kill("pipeline", signal.SIGKILL)
        stack.start_process("pipeline", "services.pipeline")

        run = api.wait_status(tenant, run_id, "completed", timeout=180)
        content, images = api.listing(tenant, "content"), api.listing(tenant, "images")
        assert api.listing(tenant, "tasks")["total"] == content["total"] > 0
        featured = sorted(i["content_id"] for i in images["items"] if i["kind"] == "featured")
        assert featured == sorted(c["id"] for c in content["items"])
        generated = [i for i in images["items"] if i["status"] == "generated"]
        assert len(generated) == images["total"] >= WIDTH
        for result in run["stage_results"].values():
            assert result["items_processed"] + result["items_failed"] == result["items_total"], result
        assert run["stage_results"]["6"]["items_processed"] == images["total"]
        assert run["stage_results"]["6"]["credits_used"] == 3 * len(generated)

        debited, balance = _ledger(stack, tenant, run_id)
        assert debited == run["total_credits_used"] == sum(r["credits_used"] for r in run["stage_results"].values())
        assert balance == CREDITS - debited
