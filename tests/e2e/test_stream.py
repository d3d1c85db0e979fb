"""GET /automation/stream: Server-Sent Events pushed as the projector commits, through the
real api, pipeline and projector processes, Kafka and PostgreSQL."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx
import pytest

from tests.support.client import Api, Tenant
from tests.support.keywords import keyword_set
from tests.support.sse import Event, final_status, read_until
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
ENDED = ("completed", "cancelled", "failed")
# Small batches and a short pause between them: a run of a few seconds, many events.
PACED = {"within_stage_delay": 0.05, "between_stage_delay": 0, "stage_1_batch_size": 2}


def _ended(events: list[Event]) -> bool:
    last = events[-1]
    return (final_status(events) in ENDED and last.kind == "log"
            and last.data["line"].split(" ", 1)[1].startswith(("Run completed", "Run cancelled", "Run failed")))


def _logs(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind == "log"]


def _trail(api: Api, tenant: Tenant, run_id: str) -> list[dict]:
    return api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]


def _paced_tenant(api: Api) -> Tenant:
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=2, per_topic=4))
    api.configure(tenant, **PACED)
    return tenant


def test_a_run_is_pushed_as_it_happens(stack: Stack, api: Api) -> None:
    tenant = _paced_tenant(api)
    with ThreadPoolExecutor(1) as pool:
        watching = pool.submit(read_until, stack.base_url, tenant.token, tenant.site_id, _ended)
        time.sleep(0.5)  # connected first, so every line is a live push
        run_id = api.run_now(tenant).json()["run_id"]
        events = watching.result(timeout=120)

    run = api.run(tenant, run_id)
    trail = _trail(api, tenant, run_id)
    lines = _logs(events)
    # every event of the run, once, in order, and the same lines as GET /logs
    assert [e.data["sequence"] for e in lines] == [e["sequence"] for e in trail]
    logs = api.call(tenant.token, "GET", "/api/v1/automation/logs", params={"run_id": run_id, "lines": 10_000})
    assert [e.data["line"] for e in lines] == logs.json()["lines"]
    # ids are the site's positions: they only grow, and every event has one
    assert all(e.id is not None for e in events)
    assert [int(e.id) for e in lines] == sorted({int(e.id) for e in lines})
    # the last snapshot is the run as GET /runs/{id} shows it, with its per-stage counters
    snapshot = [e.data for e in events if e.kind == "run"][-1]
    assert {k: v for k, v in snapshot.items() if k != "processing"} == run
    assert snapshot["stage_results"]["4"]["items_processed"] > 0 and snapshot["total_credits_used"] > 0
    # pushed, not polled: a stream that only looked at every keep-alive (15 s) would lag far more
    delays = sorted(e.received - _monotonic_of(e.data["line"]) for e in lines)
    assert delays[len(delays) // 2] < 3.0, delays


def _occurred(line: str) -> float:
    """When a log line's event happened (its leading ISO time), as a Unix time."""
    return datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00")).timestamp()


def _monotonic_of(line: str) -> float:
    """The moment a log line's event happened, on this process's monotonic clock."""
    return time.monotonic() - (time.time() - _occurred(line))


def test_a_client_that_reconnects_with_last_event_id_misses_nothing(stack: Stack, api: Api) -> None:
    tenant = _paced_tenant(api)
    run_id = api.run_now(tenant).json()["run_id"]
    first = read_until(stack.base_url, tenant.token, tenant.site_id,
                       lambda events: any("Stage 1 keywords_to_clusters completed" in e.data["line"]
                                          for e in _logs(events)))
    away = time.time()
    time.sleep(0.5)  # the run goes on while the client is away
    back = time.time()
    second = read_until(stack.base_url, tenant.token, tenant.site_id, _ended, last_event_id=first[-1].id)

    assert second[0].kind == "run" and second[0].id == first[-1].id  # where it stands now, first
    assert any(away < _occurred(e.data["line"]) < back for e in _logs(second)), "nothing happened while away"
    sequences = [e.data["sequence"] for e in _logs(first) + _logs(second)]
    assert sequences == [e["sequence"] for e in _trail(api, tenant, run_id)]  # no gap, no repeat
    ids = [int(e.id) for e in _logs(first) + _logs(second)]
    assert ids == list(range(ids[0], ids[0] + len(ids)))


def test_a_new_client_gets_the_latest_run_and_its_recent_lines(stack: Stack, api: Api) -> None:
    tenant = _paced_tenant(api)
    run_id = api.run_now(tenant).json()["run_id"]
    api.wait_status(tenant, run_id, *ENDED, timeout=120)
    events = read_until(stack.base_url, tenant.token, tenant.site_id, _ended)
    assert events[0].kind == "run" and events[0].data["run_id"] == run_id
    assert _logs(events)[0].data["line"].split(" ", 1)[1].startswith("Run started")


def test_the_stream_keeps_to_tenancy(stack: Stack, api: Api) -> None:
    mine, theirs = api.tenant(), api.tenant()
    url = f"{stack.base_url}/api/v1/automation/stream"
    for headers, site_id, status in (
        ({"Authorization": f"Bearer {theirs.token}"}, mine.site_id, 404),
        ({"Authorization": f"Bearer {mine.token}"}, "no-such-site", 404),
        ({}, mine.site_id, 401),
        ({"Authorization": f"Bearer {mine.token}", "Last-Event-ID": "soon"}, mine.site_id, 400),
    ):
        answer = httpx.get(url, params={"site_id": site_id}, headers=headers, timeout=10)
        assert answer.status_code == status, answer.text
        assert answer.json()["error"]["code"] == {404: "not_found", 401: "unauthorized", 400: "invalid_request"}[status]


def test_sites_lists_the_accounts_own_sites(api: Api) -> None:
    first = api.tenant()
    second = api.tenant(account_id=first.account_id)
    api.tenant()  # another account's site is never listed
    answer = api.call(first.token, "GET", "/api/v1/sites")
    assert answer.status_code == 200, answer.text
    sites = answer.json()["sites"]
    assert [s["id"] for s in sites] == [first.site_id, second.site_id]
    assert sites[0] == {"id": first.site_id, "account_id": first.account_id, "name": "Blog", "domain": "blog.example"}
    assert api.http.get("/api/v1/sites").status_code == 401


def test_the_dashboard_is_served_with_its_own_files_only(api: Api) -> None:
    page = api.http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for asset, kind in (("app.js", "text/javascript"), ("sse.js", "text/javascript"), ("app.css", "text/css")):
        answer = api.http.get(f"/dashboard/{asset}")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind), asset
    assert api.http.get("/dashboard/..%2Fapp.py").status_code == 404


def test_the_api_stops_promptly_with_streams_open() -> None:
    """uvicorn waits for open responses before it stops; the API ends its streams so it can."""
    with Stack("stream-stop") as own:
        tenant = Api(own.base_url).tenant()
        with ThreadPoolExecutor(1) as pool:
            reading = pool.submit(_read_to_the_end, own.base_url, tenant)
            time.sleep(1.0)
            api = own.procs["api"]
            asked = time.monotonic()
            api.send_signal(signal.SIGTERM)
            api.wait(timeout=20)
            assert time.monotonic() - asked < 10
            assert reading.result(timeout=10) == "ended"


def _read_to_the_end(base_url: str, tenant: Tenant) -> str:
    with httpx.stream("GET", f"{base_url}/api/v1/automation/stream", params={"site_id": tenant.site_id},
                      headers={"Authorization": f"Bearer {tenant.token}"}, timeout=30) as answer:
        for _ in answer.iter_lines():
            pass
    return "ended"  # the server closed the stream cleanly (a cut connection would raise)
