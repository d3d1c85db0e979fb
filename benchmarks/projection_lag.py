"""Projection lag: from an event's recording in the event store to its visibility through
the API (``GET runs/{id}/events``), p50 and p99 over every event of a paced run.

An event's ``occurred_at`` is stamped by the pipeline as it records the event, just
before the transaction that stores it commits; the API is polled every POLL_SECONDS for
events after the last one seen, and an event's lag is the moment it was first seen
minus its ``occurred_at`` (one clock: all on this machine). The polling adds up to
POLL_SECONDS (half of it on average) to each figure.
"""

from __future__ import annotations

import time

from benchmarks import ai_bound
from benchmarks.figures import Figure, Measurement, latency_figures
from benchmarks.fixtures import seconds, site_with_keywords
from benchmarks.session import Session
from tests.support.client import Api

KEYWORDS = 20
POLL_SECONDS = 0.01
NAME = "projection lag, event stored → visible in the API"


def lag(session: Session) -> list[Figure]:
    api = Api(ai_bound.stack(session).base_url)
    tenant = site_with_keywords(api, KEYWORDS)
    run_id = api.start_run(tenant)
    lags: list[float] = []
    last, status, deadline = 0, "running", time.monotonic() + 180
    while time.monotonic() < deadline:
        answer = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events",
                          params={"after_sequence": last})
        seen = time.time()
        events = answer.json()["events"]
        lags += [seen - seconds(event["occurred_at"]) for event in events]
        if events:
            last = events[-1]["sequence"]
            status = next((e["type"] for e in reversed(events) if e["type"] in ("RunCompleted", "RunFailed")), status)
        if status != "running" and not answer.json().get("has_more"):
            break
        time.sleep(POLL_SECONDS)
    note = (f"{len(lags)} events of a run of {KEYWORDS} keywords at {ai_bound.LATENCY_MS} ms a call,"
            f" polled every {POLL_SECONDS * 1000:.0f} ms")
    return latency_figures("projection_lag", NAME, lags, note)


MEASUREMENTS = [Measurement("projection lag", lag, [(f"projection_lag.p{p}", f"{NAME}, p{p}", "ms") for p in (50, 99)])]
