"""The event store is the source of truth: replaying it rebuilds the API's answers, and
altering it is caught by the audit."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from typing import Any, Iterator

import psycopg
import pytest

from tests.support.client import Api, Tenant
from tests.support.stack import ROOT, Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def audited() -> Iterator[Stack]:
    # A checkpoint every few events, HMAC'd: the pipeline's relay writes them as it publishes.
    with Stack("audit", OFFLINE_AI_LATENCY_MS="50", AUDIT_KEY="e2e-audit-key", AUDIT_CHECKPOINT_EVENTS="5") as running:
        yield running


def _cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=ROOT, env=stack.env,
                          capture_output=True, text=True, timeout=120)


def _start(api: Api) -> tuple[Tenant, str]:
    tenant = api.small_site(stage_1_batch_size=2)
    return tenant, api.start_run(tenant)


def _answers(api: Api, tenant: Tenant, run_id: str) -> dict[str, Any]:
    get = lambda path, **params: api.call(tenant.token, "GET", path, params=params).json()  # noqa: E731
    return {
        "run": get(f"/api/v1/automation/runs/{run_id}"),
        "events": get(f"/api/v1/automation/runs/{run_id}/events"),
        "logs": get("/api/v1/automation/logs", run_id=run_id, lines=10_000),
        "history": get("/api/v1/automation/history", site_id=tenant.site_id),
        "current": get("/api/v1/automation/current_run", site_id=tenant.site_id),
        "processing": get("/api/v1/automation/current_processing", site_id=tenant.site_id),
    }


@pytest.fixture(scope="module")
def three_runs(audited: Stack) -> list[tuple[Tenant, str]]:
    """A completed, a paused and a cancelled run."""
    api = Api(audited.base_url)
    done, paused, cancelled = _start(api), _start(api), _start(api)
    for (tenant, run_id), action in ((paused, "pause"), (cancelled, "cancel")):
        assert api.call(tenant.token, "POST", f"/api/v1/automation/{action}", params={"run_id": run_id}).status_code == 202
    api.wait_status(*done, "completed", timeout=60)
    api.wait_status(*paused, "paused", timeout=10)
    api.wait_status(*cancelled, "cancelled", timeout=10)
    return [done, paused, cancelled]


def test_replay_after_dropping_the_read_models_gives_the_same_answers(audited: Stack, three_runs) -> None:
    api = Api(audited.base_url)
    before = [_answers(api, tenant, run_id) for tenant, run_id in three_runs]
    assert [a["run"]["status"] for a in before] == ["completed", "paused", "cancelled"]

    with psycopg.connect(audited.env["DATABASE_URL"]) as conn:
        conn.execute("TRUNCATE run_view, run_events, run_log_lines")
    assert api.call(three_runs[0][0].token, "GET", f"/api/v1/automation/runs/{three_runs[0][1]}").status_code == 404

    for _ in range(2):  # replaying twice changes nothing
        replayed = _cli(audited, "replay")
        assert replayed.returncode == 0, replayed.stderr
        assert [_answers(api, tenant, run_id) for tenant, run_id in three_runs] == before


def test_as_of_shows_a_run_as_it_stood(audited: Stack, three_runs) -> None:
    api = Api(audited.base_url)
    tenant, run_id = three_runs[0]
    events = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
    first_stage_done = next(e for e in events if e["type"] == "StageCompleted")
    then = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}",
                    params={"as_of": first_stage_done["occurred_at"]}).json()
    assert then["status"] == "running"
    assert then["stage_results"]["1"]["completed_at"] is not None
    assert "7" not in then["stage_results"]
    assert api.run(tenant, run_id)["status"] == "completed"


def _tamper(stack: Stack, run_id: str, sql: str, *params: Any) -> None:
    """As an attacker with the owner's password could: the stored events are append-only
    for every session that does not set what only the migrations set (and the services'
    role may not rewrite them even then)."""
    with psycopg.connect(stack.owner_url) as conn:
        conn.execute("SET LOCAL automation.schema_change = 'on'")
        conn.execute(sql, (*params,))


def _keyed_checkpoints(stack: Stack) -> int:
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
        return conn.execute("SELECT count(*) FROM audit_checkpoints WHERE keyed").fetchone()[0]


def test_audit_verify_names_the_first_altered_event(audited: Stack, three_runs) -> None:
    deadline = time.monotonic() + 30
    while _keyed_checkpoints(audited) < 2:
        assert time.monotonic() < deadline, "the relay wrote no checkpoints"
        time.sleep(0.2)
    intact = _cli(audited, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    _, run_id = three_runs[0]
    originator = uuid.UUID(run_id)
    with psycopg.connect(audited.env["DATABASE_URL"]) as conn:
        rows = conn.execute("SELECT originator_version, topic, state FROM automation_events"
                            " WHERE originator_id = %s ORDER BY originator_version", (originator,)).fetchall()
    credits_row = next(r for r in rows if r[1].endswith(":CreditsUsed"))
    state = json.loads(bytes(credits_row[2]))
    state["data"]["credits"] += 1  # an auditor's nightmare: one more credit charged

    try:
        _tamper(audited, run_id, "UPDATE automation_events SET state = %s WHERE originator_id = %s"
                " AND originator_version = %s", json.dumps(state).encode(), originator, credits_row[0])
        altered = _cli(audited, "audit", "verify")
        assert altered.returncode == 1
        assert f"run {run_id}: event {credits_row[0]} (CreditsUsed)" in altered.stderr
        assert "content_altered" in altered.stderr
        only_that_run = _cli(audited, "audit", "verify", "--run", run_id)
        assert only_that_run.returncode == 1
    finally:
        _tamper(audited, run_id, "UPDATE automation_events SET state = %s WHERE originator_id = %s"
                " AND originator_version = %s", bytes(credits_row[2]), originator, credits_row[0])

    third, fourth = rows[2], rows[3]
    try:  # swap the content of events 3 and 4: the order is altered
        for target, source in ((third, fourth), (fourth, third)):
            _tamper(audited, run_id, "UPDATE automation_events SET topic = %s, state = %s"
                    " WHERE originator_id = %s AND originator_version = %s",
                    source[1], bytes(source[2]), originator, target[0])
        swapped = _cli(audited, "audit", "verify", "--run", run_id)
        assert swapped.returncode == 1
        assert f"run {run_id}: event 3 " in swapped.stderr
    finally:
        for row in (third, fourth):
            _tamper(audited, run_id, "UPDATE automation_events SET topic = %s, state = %s"
                    " WHERE originator_id = %s AND originator_version = %s",
                    row[1], bytes(row[2]), originator, row[0])
    assert _cli(audited, "audit", "verify").returncode == 0


def test_audit_verify_catches_a_deleted_first_event_and_refuses_unknown_runs(audited: Stack, three_runs) -> None:
    unknown = _cli(audited, "audit", "verify", "--run", "not-a-run")
    assert unknown.returncode == 2 and "no run not-a-run" in unknown.stderr
    _, run_id = three_runs[2]
    originator = uuid.UUID(run_id)
    with psycopg.connect(audited.env["DATABASE_URL"]) as conn:
        first = conn.execute("SELECT originator_version, topic, state, notification_id FROM automation_events"
                             " WHERE originator_id = %s AND originator_version = 1", (originator,)).fetchone()
    try:
        _tamper(audited, run_id, "DELETE FROM automation_events WHERE originator_id = %s AND originator_version = 1",
                originator)
        cut = _cli(audited, "audit", "verify")
        assert cut.returncode == 1 and f"run {run_id}:" in cut.stderr
    finally:
        # With its notification id: the audit checkpoints cover ids, not only contents.
        _tamper(audited, run_id, "INSERT INTO automation_events (originator_id, originator_version, topic, state,"
                " notification_id) VALUES (%s, %s, %s, %s, %s)", originator, *first)
    assert _cli(audited, "audit", "verify").returncode == 0
