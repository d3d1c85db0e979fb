"""Control latency: HTTP ``pause`` / ``resume`` / ``cancel`` until ``current_run`` shows the
new status, with 16 calls of 2 s in flight (``ai_concurrency`` 16, offline AI at 2000 ms).

The site has thousands of writer tasks waiting for stage 4 (one article call each), so a
run spends all its time there with its window full. One run is paused and resumed TRIES
times; then TRIES runs are started and each cancelled. A try starts SETTLE seconds after
the run is seen running at stage 4, so its calls are in flight (each lasts 2 s).
"""

from __future__ import annotations

import time
from typing import Any, Callable

from benchmarks.figures import Figure, Measurement, latency_figures
from benchmarks.fixtures import (
    RICH, Unsupported, pending_articles, set_ai_concurrency, wait_current,
)
from benchmarks.session import Session
from tests.support.client import Api, Tenant

LATENCY_MS = 2000
CONCURRENCY = 16
TASKS = 4000
TRIES = 50
SETTLE = 0.2
CAP_SECONDS = 75.0  # per loop: a slow branch reports fewer tries rather than blowing the budget
ACTIONS = ("pause", "resume", "cancel")


def _control(api: Api, tenant: Tenant, action: str, run_id: str, shown: Callable[[Any], bool]) -> float:
    started = time.perf_counter()
    answer = api.call(tenant.token, "POST", f"/api/v1/automation/{action}", params={"run_id": run_id})
    assert answer.status_code == 202, f"{action}: {answer.status_code} {answer.text}"
    wait_current(api, tenant, shown, timeout=30)
    return time.perf_counter() - started


def _at_stage_4(api: Api, tenant: Tenant) -> None:
    wait_current(api, tenant, lambda run: run and run["status"] == "running" and run["current_stage"] == 4,
                 timeout=60, interval=0.02)
    time.sleep(SETTLE)


def pause_and_resume(api: Api, tenant: Tenant, run_id: str) -> tuple[list[float], list[float]]:
    pauses, resumes, deadline = [], [], time.monotonic() + CAP_SECONDS
    _at_stage_4(api, tenant)
    while len(pauses) < TRIES and time.monotonic() < deadline:
        pauses.append(_control(api, tenant, "pause", run_id, lambda run: run and run["status"] == "paused"))
        resumes.append(_control(api, tenant, "resume", run_id, lambda run: run and run["status"] == "running"))
        time.sleep(SETTLE)
    return pauses, resumes


def cancels(api: Api, tenant: Tenant, run_id: str) -> list[float]:
    took, deadline = [], time.monotonic() + CAP_SECONDS
    while len(took) < TRIES and time.monotonic() < deadline:
        if took:
            run_id = api.start_run(tenant)
            _at_stage_4(api, tenant)
        gone = lambda run, run_id=run_id: run is None or run["run_id"] != run_id or run["status"] == "cancelled"  # noqa: E731
        took.append(_control(api, tenant, "cancel", run_id, gone))
    return took


def control(session: Session) -> list[Figure]:
    # Its own stack, not the one before with its pipeline restarted: measured on that one, one
    # try in fifty took ~300 ms (p99 300-334 ms, against 47 ms on a stack of its own), most
    # likely the consumer group settling after the restart; a restart's cost, not control's.
    stack = session.stack("ai2000", fresh=True, OFFLINE_AI_LATENCY_MS=str(LATENCY_MS))
    api = Api(stack.base_url)
    tenant = api.tenant(credits=RICH)
    api.configure(tenant, within_stage_delay=0, between_stage_delay=0)
    try:
        set_ai_concurrency(api, tenant, CONCURRENCY)
        in_flight = f"{CONCURRENCY} calls of {LATENCY_MS} ms in flight"
    except Unsupported:
        in_flight = f"ai_concurrency not supported: the pipeline's own calls of {LATENCY_MS} ms in flight"
    pending_articles(stack, tenant, TASKS)
    run_id = api.start_run(tenant)
    pauses, resumes = pause_and_resume(api, tenant, run_id)
    took = cancels(api, tenant, run_id)
    figures = []
    for action, values in zip(ACTIONS, (pauses, resumes, took)):
        note = f"{in_flight}; {len(values)} tries" + ("" if len(values) >= TRIES else f" (capped at {CAP_SECONDS:.0f} s)")
        figures += latency_figures(f"control.{action}", f"control: {action} until current_run shows it", values, note)
    return figures


MEASUREMENTS = [Measurement("control latency", control, [
    (f"control.{a}.p{p}", f"control: {a} until current_run shows it, p{p}", "ms") for a in ACTIONS for p in (50, 99)])]
