"""AI work can't be had for free: a resume must be covered, and a run's work is fixed at its
admission. Through the real processes, on a stack whose offline AI takes 100 ms a call."""

from __future__ import annotations

import time
from typing import Iterator

import psycopg
import pytest

from tests.support.client import Api, Tenant
from tests.support.keywords import keyword_set
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
FAST = {"within_stage_delay": 0, "between_stage_delay": 0}


@pytest.fixture(scope="module")
def paced() -> Iterator[Stack]:
    with Stack("money", OFFLINE_AI_LATENCY_MS="100") as running:
        yield running


@pytest.fixture(scope="module")
def papi(paced: Stack) -> Api:
    return Api(paced.base_url)


def _control(api: Api, tenant: Tenant, action: str, run_id: str):
    return api.call(tenant.token, "POST", f"/api/v1/automation/{action}", params={"run_id": run_id})


def _sql(stack: Stack, statement: str, *params: object) -> list[tuple]:
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def _events(api: Api, tenant: Tenant, run_id: str) -> list[str]:
    answer = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events")
    return [event["type"] for event in answer.json()["events"]]


def test_a_run_short_of_credits_resumes_only_once_its_next_batch_is_covered(paced: Stack, papi: Api) -> None:
    tenant = papi.tenant()
    papi.import_keywords(tenant, keyword_set())
    papi.configure(tenant, **FAST, stage_1_batch_size=4)
    run_id = papi.run_now(tenant).json()["run_id"]
    assert _control(papi, tenant, "pause", run_id).status_code == 202
    papi.wait_status(tenant, run_id, "paused", timeout=10)
    _wait_for_batches_to_land(papi, tenant, run_id)
    # The account is drained to nothing: its run's reservation first, then its free balance.
    (credits,), = _sql(paced, "SELECT credits FROM accounts WHERE id = %s", tenant.account_id)
    _sql(paced, "SELECT debit_credits(%s, %s, 1, %s, %s)", tenant.account_id, run_id, credits, f"{run_id}:drain")

    refused = _control(papi, tenant, "resume", run_id)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "insufficient_credits"
    assert error["details"]["available"] == 0 and error["details"]["required"] > 0
    assert "RunResumed" not in _events(papi, tenant, run_id)
    assert papi.run(tenant, run_id)["status"] == "paused"

    # Exactly what the next batch can cost: the run resumes, and stops again before a batch
    # it can't cover, so every batch it starts is paid for.
    required = error["details"]["required"]
    assert papi.admin("POST", f"/api/v1/admin/accounts/{tenant.account_id}/credits",
                      json={"amount": required}).status_code == 200
    assert _control(papi, tenant, "resume", run_id).status_code == 202
    starved = papi.wait_run(tenant, run_id, lambda r: r["status"] == "paused" and r["resumed_at"]
                            and r["pause_reason"] == "insufficient_credits", timeout=60)
    _wait_for_batches_to_land(papi, tenant, run_id)
    types = _events(papi, tenant, run_id)
    after_resume = types[types.index("RunResumed"):]
    assert after_resume.count("BatchStarted") == after_resume.count("BatchProcessed") >= 1
    assert starved["total_credits_used"] > 0

    top_up = papi.admin("POST", f"/api/v1/admin/accounts/{tenant.account_id}/credits", json={"amount": 10_000})
    assert top_up.status_code == 200
    resumed = _control(papi, tenant, "resume", run_id)
    assert resumed.status_code == 202, resumed.text
    run = papi.wait_status(tenant, run_id, "completed", timeout=120)
    assert run["stage_results"]["7"]["partial"] is False
    (credits, reserved), = _sql(paced, "SELECT credits, reserved FROM accounts WHERE id = %s", tenant.account_id)
    (spent,), = _sql(paced, "SELECT COALESCE(sum(amount), 0) FROM credit_ledger WHERE run_id = %s AND kind = 'debit'"
                            " AND entry_key <> %s", run_id, f"{run_id}:drain")
    assert spent == run["total_credits_used"] > 0
    assert reserved == 0 and credits == required + 10_000 - (spent - _spent_before(paced, run_id))


def _wait_for_batches_to_land(api: Api, tenant: Tenant, run_id: str, timeout: float = 30.0) -> None:
    """A batch in flight when the pause came is still recorded: wait until each one that
    started has been (the trail shows the pause after every BatchStarted before it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        types = _events(api, tenant, run_id)
        if "RunPaused" in types and types.count("BatchStarted") == types.count("BatchProcessed"):
            return
        time.sleep(0.05)
    raise TimeoutError(f"a batch of run {run_id} never landed")


def _spent_before(stack: Stack, run_id: str) -> int:
    """What the run had been charged before the drain (its entries come before it)."""
    (before,), = _sql(stack, "SELECT COALESCE(sum(amount), 0) FROM credit_ledger WHERE run_id = %s AND kind = 'debit'"
                             " AND id < (SELECT id FROM credit_ledger WHERE entry_key = %s)", run_id, f"{run_id}:drain")
    return int(before)


def test_keywords_imported_during_a_run_wait_for_the_next_run(papi: Api) -> None:
    tenant = papi.tenant()
    original = keyword_set()
    papi.import_keywords(tenant, original)
    papi.configure(tenant, **FAST, stage_1_batch_size=1)  # 20 clustering calls of 100 ms each
    run_id = papi.run_now(tenant).json()["run_id"]
    papi.wait_run(tenant, run_id, lambda run: "1" in run["stage_results"])
    late = [f"aeropress recipe {n}" for n in range(6)]
    assert papi.import_keywords(tenant, late)["created"] == 6
    assert not papi.run(tenant, run_id)["stage_results"]["1"]["completed_at"], "stage 1 ended before the import"

    run = papi.wait_status(tenant, run_id, "completed", timeout=120)
    first = run["stage_results"]["1"]
    assert first["items_total"] == len(original)
    assert first["items_processed"] + first["items_failed"] == len(original)
    keywords = {k["keyword"]: k for k in papi.listing(tenant, "keywords")["items"]}
    assert all(keywords[k]["cluster_id"] is None for k in late)
    assert all(keywords[k]["cluster_id"] is not None for k in original)

    next_id = papi.run_now(tenant).json()["run_id"]
    following = papi.wait_status(tenant, next_id, "completed", timeout=120)
    assert following["stage_results"]["1"]["items_total"] == len(late)
    keywords = papi.listing(tenant, "keywords")["items"]
    assert len(keywords) == len(original) + len(late) and all(k["cluster_id"] for k in keywords)


def test_an_account_opened_with_no_credits_has_no_ledger_entry(paced: Stack, papi: Api) -> None:
    answer = papi.admin("POST", "/api/v1/admin/accounts", json={"name": "Empty", "credits": 0})
    assert answer.status_code == 201, answer.text
    assert _sql(paced, "SELECT kind, amount FROM credit_ledger WHERE account_id = %s", answer.json()["id"]) == []
