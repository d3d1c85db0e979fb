"""Pause, resume, cancel and credits, through the real processes."""

from __future__ import annotations

import time
from typing import Iterator

import psycopg
import pytest

from tests.support.client import Api, Tenant
from tests.support.keywords import keyword_set
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
FAST = {"within_stage_delay": 0, "between_stage_delay": 0, "ai_concurrency": 16}


@pytest.fixture(scope="module")
def paced() -> Iterator[Stack]:
    """Every offline AI call takes 100 ms, so runs last long enough to be steered."""
    with Stack("paced", OFFLINE_AI_LATENCY_MS="100") as running:
        yield running


@pytest.fixture(scope="module")
def papi(paced: Stack) -> Api:
    return Api(paced.base_url)


def _control(api: Api, tenant: Tenant, action: str, run_id: str) -> None:
    answer = api.call(tenant.token, "POST", f"/api/v1/automation/{action}", params={"run_id": run_id})
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"run_id": run_id, "command": action}


def _controls_seen(api: Api, tenant: Tenant, run_id: str, count: int, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        events = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
        controls = [e["type"] for e in events if e["type"] in ("RunPaused", "RunResumed")]
        if len(controls) >= count or time.monotonic() > deadline:
            return controls
        time.sleep(0.05)


def _totals(api: Api, tenant: Tenant) -> dict[str, int]:
    return {kind: api.listing(tenant, kind, limit=1)["total"] for kind in ("clusters", "ideas", "tasks", "content", "images")}


def _balance(stack: Stack, account_id: str) -> tuple[int, int]:
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
        row = conn.execute("SELECT credits, reserved FROM accounts WHERE id = %s", (account_id,)).fetchone()
    return int(row[0]), int(row[1])


def test_pause_then_resume_processes_every_item_once(papi: Api) -> None:
    tenant = papi.tenant()
    papi.import_keywords(tenant, keyword_set())
    # Two calls at a time: stages 4 and 5 last long enough (their items' 100 ms calls, a pair at
    # a time) that the pause lands inside one of them, not in the instant between two stages.
    papi.configure(tenant, **(FAST | {"ai_concurrency": 2}), stage_1_batch_size=4)
    run_id = papi.run_now(tenant).json()["run_id"]
    papi.wait_run(tenant, run_id, lambda run: run["current_stage"] >= 4)

    _control(papi, tenant, "pause", run_id)
    paused = papi.wait_status(tenant, run_id, "paused", timeout=10)
    assert paused["paused_at"] and paused["pause_reason"] == "user"
    assert paused["stage_results"][str(paused["current_stage"])]["partial"] is True
    time.sleep(1.5)  # how long the run stays paused; the trail below shows it did no work meanwhile
    _control(papi, tenant, "resume", run_id)
    run = papi.wait_status(tenant, run_id, "completed", timeout=120)
    assert run["resumed_at"] and run["resumed_at"] >= run["paused_at"]
    totals = _totals(papi, tenant)
    assert totals["tasks"] == totals["ideas"] == totals["content"] > 0
    for stage in ("3", "4", "5"):  # each item of these stages was processed exactly once
        result = run["stage_results"][stage]
        assert result["items_processed"] + result["items_failed"] == result["items_total"]
        assert result["partial"] is False
    assert run["stage_results"]["4"]["items_processed"] == totals["content"]
    events = papi.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
    types = [e["type"] for e in events]
    paused_at, resumed_at = types.index("RunPaused"), types.index("RunResumed")
    assert "BatchStarted" not in types[paused_at:resumed_at], "an AI call started after the pause"
    # Outputs are written only with a BatchProcessed: at most the call in flight landed.
    assert types[paused_at:resumed_at].count("BatchProcessed") <= 1
    lines = papi.call(tenant.token, "GET", "/api/v1/automation/logs", params={"run_id": run_id, "lines": 1000}).json()
    assert any("Run paused" in line for line in lines["lines"]) and any("Run resumed" in line for line in lines["lines"])


def test_cancel_while_paused_ends_the_run_and_frees_the_site(papi: Api) -> None:
    tenant = papi.tenant()
    papi.import_keywords(tenant, keyword_set())
    papi.configure(tenant, **FAST, stage_1_batch_size=2)
    run_id = papi.run_now(tenant).json()["run_id"]
    _control(papi, tenant, "pause", run_id)
    papi.wait_status(tenant, run_id, "paused", timeout=10)
    _control(papi, tenant, "cancel", run_id)
    run = papi.wait_status(tenant, run_id, "cancelled", timeout=10)
    assert run["cancelled_at"]
    again = papi.call(tenant.token, "POST", "/api/v1/automation/resume", params={"run_id": run_id})
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_transition"
    assert papi.run_now(tenant).status_code == 202  # the site's slot was released


def test_two_sites_of_one_account_cannot_spend_the_same_credits(paced: Stack, papi: Api) -> None:
    first = papi.tenant()
    papi.import_keywords(first, keyword_set())
    papi.configure(first, **FAST)
    required = papi.call(first.token, "GET", "/api/v1/automation/estimate",
                         params={"site_id": first.site_id}).json()["required_credits"]
    account = papi.admin("POST", "/api/v1/admin/accounts", json={"name": "Tight", "credits": required + required // 2})
    account_id = account.json()["id"]
    a, b = papi.tenant(account_id=account_id), papi.tenant(account_id=account_id)
    for tenant in (a, b):
        papi.import_keywords(tenant, keyword_set())
        papi.configure(tenant, **FAST)

    assert papi.run_now(a).status_code == 202
    refused = papi.run_now(b)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "insufficient_credits"
    assert error["details"]["required"] == required
    assert error["details"]["available"] == required // 2
    credits, reserved = _balance(paced, account_id)
    assert reserved <= credits


def test_running_out_of_credits_pauses_and_a_top_up_lets_it_finish(paced: Stack, papi: Api) -> None:
    tenant = papi.tenant()
    papi.import_keywords(tenant, keyword_set(topics=2, per_topic=5))
    papi.configure(tenant, **FAST, stage_1_batch_size=1)
    required = papi.call(tenant.token, "GET", "/api/v1/automation/estimate",
                         params={"site_id": tenant.site_id}).json()["required_credits"]
    account = papi.admin("POST", "/api/v1/admin/accounts", json={"name": "Exact", "credits": required})
    tenant = papi.tenant(account_id=account.json()["id"])
    papi.import_keywords(tenant, keyword_set(topics=2, per_topic=5))
    papi.configure(tenant, **FAST, stage_1_batch_size=1)

    run_id = papi.run_now(tenant).json()["run_id"]
    _control(papi, tenant, "pause", run_id)
    assert papi.wait_status(tenant, run_id, "paused", timeout=10)["current_stage"] == 1
    # New keywords while paused wait for the next run: the reservation is this run's cap.
    late = [f"espresso grind question {n}" for n in range(60)]
    papi.import_keywords(tenant, late)
    _control(papi, tenant, "resume", run_id)

    # Before each batch the worker checks the most it can cost, not the flat estimate: with
    # only the 20 % margin left, a batch comes that the rest of the reservation can't cover.
    starved = papi.wait_run(tenant, run_id, lambda r: r["status"] == "paused" and r["pause_reason"] == "insufficient_credits",
                            timeout=60)
    credits, reserved = _balance(paced, tenant.account_id)
    assert credits >= 0 and reserved == credits  # what is left is the paused run's, and held for it
    assert starved["total_credits_used"] == required - credits

    top_up = papi.admin("POST", f"/api/v1/admin/accounts/{tenant.account_id}/credits", json={"amount": 10_000})
    assert top_up.status_code == 200
    _control(papi, tenant, "resume", run_id)
    run = papi.wait_status(tenant, run_id, "completed", timeout=120)
    credits, reserved = _balance(paced, tenant.account_id)
    assert (credits, reserved) == (required + 10_000 - run["total_credits_used"], 0)
    keywords = {k["keyword"]: k["cluster_id"] for k in papi.listing(tenant, "keywords")["items"]}
    assert all(keywords[k] is None for k in late)


def test_a_pause_during_a_long_delay_between_stages_takes_effect_at_once(api: Api) -> None:
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=1))
    api.configure(tenant, within_stage_delay=0, between_stage_delay=60)
    run_id = api.run_now(tenant).json()["run_id"]
    api.wait_run(tenant, run_id, lambda run: "1" in run["stage_results"] and run["stage_results"]["1"]["completed_at"])

    _control(api, tenant, "pause", run_id)
    # Far within the 60 s delay: the pause did not wait for it to run out.
    paused = api.wait_status(tenant, run_id, "paused", timeout=10)
    assert "2" not in paused["stage_results"]  # it was waiting between stages 1 and 2
    _control(api, tenant, "cancel", run_id)
    api.wait_status(tenant, run_id, "cancelled", timeout=5)


def test_pause_then_resume_at_once_are_both_taken_in_order(papi: Api) -> None:
    tenant = papi.tenant()
    papi.import_keywords(tenant, keyword_set())
    papi.configure(tenant, **FAST)
    run_id = papi.run_now(tenant).json()["run_id"]
    _control(papi, tenant, "pause", run_id)
    _control(papi, tenant, "resume", run_id)  # before the read model shows the pause
    _control(papi, tenant, "pause", run_id)
    # The first pause alone shows "paused" too: wait until the read model has all three.
    controls = _controls_seen(papi, tenant, run_id, count=3)
    assert controls == ["RunPaused", "RunResumed", "RunPaused"]
    run = papi.wait_status(tenant, run_id, "paused", timeout=10)
    again = papi.call(tenant.token, "POST", "/api/v1/automation/pause", params={"run_id": run_id})
    assert again.status_code == 400 and again.json()["error"]["details"] == {"status": "paused"}
    assert run["status"] == "paused"
