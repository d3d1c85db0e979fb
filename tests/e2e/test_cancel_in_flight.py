"""A cancel aborts an AI call in flight: it takes effect in well under the call's 5 seconds."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from tests.support.client import Api
from tests.support.keywords import keyword_set
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


def test_cancel_during_a_five_second_ai_call_takes_effect_within_a_second() -> None:
    with Stack("slow", OFFLINE_AI_LATENCY_MS="5000") as stack:
        api = Api(stack.base_url)
        tenant = api.tenant()
        api.import_keywords(tenant, keyword_set(topics=1))
        api.configure(tenant, within_stage_delay=0, between_stage_delay=0, ai_concurrency=16)
        run_id = api.run_now(tenant).json()["run_id"]

        processing = {}
        deadline = time.monotonic() + 10
        while not (processing and processing.get("items")) and time.monotonic() < deadline:
            processing = api.call(tenant.token, "GET", "/api/v1/automation/current_processing",
                                  params={"site_id": tenant.site_id}).json()["processing"] or {}
        assert processing["stage"] == 1 and processing["items"], "the first AI call never started"

        asked = time.time()
        answer = api.call(tenant.token, "POST", "/api/v1/automation/cancel", params={"run_id": run_id})
        assert answer.status_code == 202
        run = api.wait_status(tenant, run_id, "cancelled", timeout=10)

        # Timed inside the system, from the trail: when the cancel was recorded, against
        # when it was asked and when the 5-second AI call began.
        events = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
        at = {e["type"]: _epoch(e["occurred_at"]) for e in events}
        assert at["RunCancelled"] - asked < 1.0
        assert at["RunCancelled"] - at["BatchStarted"] < 5.0
        assert "BatchProcessed" not in at

        assert run["stage_results"]["1"]["partial"] is True
        assert run["total_credits_used"] == 0  # the aborted call produced and charged nothing
        time.sleep(0.5)
        assert api.listing(tenant, "clusters")["total"] == 0
        assert api.run(tenant, run_id)["status"] == "cancelled"


def _epoch(moment: str) -> float:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()
