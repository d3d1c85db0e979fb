"""Latency of the API's hottest read and of run admission, at a fixed request rate, with the
load sent from a separate process (benchmarks/loadgen.py), so the client's own work does
not share an interpreter with the measurement.

- ``GET current_run``: a site whose run is active (so the answer carries a whole run);
- ``POST run_now``: one site each, with a handful of keywords. Each answer is the pipeline's
  admission decision: HTTP → Kafka → pipeline (event store, credit reservation) → back,
  plus waiting until the projector shows the run. The runs admitted go on working, so
  later admissions meet a busy pipeline and projector.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from benchmarks.figures import Figure, Measurement, latency_figures
from benchmarks.fixtures import RICH, cancel_active
from benchmarks.session import Session
from tests.support.client import Api, Tenant
from tests.support.keywords import keyword_set
from tests.support.stack import ROOT

READ_RATE, READS = 50, 600  # per second, in all
ADMIT_RATE, ADMISSIONS = 5, 60
SITES_PER_ACCOUNT = 10


def load(base_url: str, rate: float, requests: list[dict[str, Any]]) -> dict[str, Any]:
    plan = json.dumps({"base_url": base_url, "rate": rate, "requests": requests})
    done = subprocess.run([sys.executable, "-m", "benchmarks.loadgen"], cwd=ROOT, input=plan, capture_output=True,
                          text=True, check=True, timeout=len(requests) / rate + 120)
    return json.loads(done.stdout)


def _request(method: str, path: str, tenant: Tenant) -> dict[str, Any]:
    return {"method": method, "path": f"/api/v1/automation/{path}", "params": {"site_id": tenant.site_id},
            "token": tenant.token}


def _figures(key: str, name: str, rate: float, result: dict[str, Any], ok: int) -> list[Figure]:
    failures = sum(status != ok for status in result["statuses"])
    achieved = len(result["seconds"]) / result["wall"]
    note = (f"asked {rate:g}/s, sent {achieved:.1f}/s from a separate process; {failures} not {ok};"
            f" sender late by ≤ {result['late_max'] * 1000:.0f} ms")
    return latency_figures(key, name, result["seconds"], note, {"failures": failures, "rate": rate})


def _stack(session: Session):
    return session.stack("zero", OFFLINE_AI_LATENCY_MS="0")


def current_run_latency(session: Session) -> list[Figure]:
    stack = _stack(session)
    api = Api(stack.base_url)
    tenant = api.tenant(credits=RICH)
    api.import_keywords(tenant, keyword_set(topics=1))
    api.configure(tenant, within_stage_delay=0, between_stage_delay=3600)  # stays active after stage 1
    run_id = api.run_now(tenant).json()["run_id"]
    api.wait_run(tenant, run_id, lambda run: "1" in run["stage_results"])
    load(stack.base_url, READ_RATE, [_request("GET", "current_run", tenant)] * 50)  # warm-up
    result = load(stack.base_url, READ_RATE, [_request("GET", "current_run", tenant)] * READS)
    cancel_active(api, [tenant])
    return _figures("api.current_run", f"API GET current_run at {READ_RATE}/s", READ_RATE, result, 200)


def run_now_latency(session: Session) -> list[Figure]:
    stack = _stack(session)
    api = Api(stack.base_url)
    words = keyword_set(topics=1)
    tenants: list[Tenant] = []
    for index in range(ADMISSIONS):
        owner = api.tenant(credits=RICH, account_id=None if index % SITES_PER_ACCOUNT == 0 else tenants[-1].account_id)
        api.import_keywords(owner, words)
        tenants.append(owner)
    result = load(stack.base_url, ADMIT_RATE, [_request("POST", "run_now", t) for t in tenants])
    cancel_active(api, tenants)
    return _figures("api.run_now", f"API POST run_now at {ADMIT_RATE}/s", ADMIT_RATE, result, 202)


MEASUREMENTS = [
    Measurement("API current_run", current_run_latency, [
        (f"api.current_run.p{p}", f"API GET current_run at {READ_RATE}/s, p{p}", "ms") for p in (50, 99)]),
    Measurement("API run_now", run_now_latency, [
        (f"api.run_now.p{p}", f"API POST run_now at {ADMIT_RATE}/s, p{p}", "ms") for p in (50, 99)]),
]
