"""A cancel aborts an AI call in flight: recorded before the call's 5 seconds are up, and
nothing of the call is written or charged, even once those 5 seconds have passed."""

from __future__ import annotations

import time
from datetime import datetime

import psycopg
import pytest

from tests.support.client import Api
from tests.support.keywords import keyword_set
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
CALL_SECONDS = 5.0


def test_cancel_during_a_five_second_ai_call_aborts_it() -> None:
    with Stack("slow", OFFLINE_AI_LATENCY_MS=str(int(CALL_SECONDS * 1000))) as stack:
        api = Api(stack.base_url)
        tenant = api.tenant(credits=10_000)
        api.import_keywords(tenant, keyword_set(topics=1))
        api.configure(tenant, within_stage_delay=0, between_stage_delay=0, ai_concurrency=16)
        run_id = api.run_now(tenant).json()["run_id"]

        processing = {}
        deadline = time.monotonic() + 10
        while not (processing and processing.get("items")) and time.monotonic() < deadline:
            processing = api.call(tenant.token, "GET", "/api/v1/automation/current_processing",
                                  params={"site_id": tenant.site_id}).json()["processing"] or {}
        assert processing["stage"] == 1 and processing["items"], "the first AI call never started"

        answer = api.call(tenant.token, "POST", "/api/v1/automation/cancel", params={"run_id": run_id})
        assert answer.status_code == 202
        api.wait_status(tenant, run_id, "cancelled", timeout=10)

        # Timed inside the system, from the trail: the cancel was recorded while the call
        # would still have been running.
        events = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
        at = {e["type"]: _epoch(e["occurred_at"]) for e in events}
        assert at["RunCancelled"] - at["BatchStarted"] < CALL_SECONDS

        # Then past the moment an un-aborted call would have answered, and a little more for
        # its batch to be written: still nothing written, nothing charged.
        while time.time() < at["BatchStarted"] + CALL_SECONDS + 2:
            time.sleep(0.1)
        run = api.run(tenant, run_id)
        assert run["status"] == "cancelled" and run["stage_results"]["1"]["partial"] is True
        assert run["total_credits_used"] == 0
        after = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
        assert after == events and after[-1]["type"] == "RunCancelled"
        assert api.listing(tenant, "clusters")["total"] == 0
        assert all(k["cluster_id"] is None for k in api.listing(tenant, "keywords")["items"])
        with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
            debits = conn.execute("SELECT count(*) FROM credit_ledger WHERE run_id = %s AND kind = 'debit'",
                                  (run_id,)).fetchone()[0]
            credits, reserved = conn.execute("SELECT credits, reserved FROM accounts WHERE id = %s",
                                             (tenant.account_id,)).fetchone()
        assert (debits, credits, reserved) == (0, 10_000, 0)


def _epoch(moment: str) -> float:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()
