"""Pause, resume and cancel as the topics carry them, and redeliveries that change nothing."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from tests.support.client import Api, Tenant
from tests.support.kafka import messages_of, publish, wait_messages
from tests.support.keywords import keyword_set
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
COMMAND_FIELDS = {"type", "command_id", "site_id", "account_id", "run_id", "trigger_type", "issued_at", "schema_version"}


def _control(api: Api, tenant: Tenant, action: str, run_id: str) -> None:
    answer = api.call(tenant.token, "POST", f"/api/v1/automation/{action}", params={"run_id": run_id})
    assert answer.status_code == 202, answer.text


def _types(api: Api, tenant: Tenant, run_id: str) -> list[str]:
    events = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
    return [e["type"] for e in events]


def _steered_run(api: Api, between_stage_delay: float) -> tuple[Tenant, str]:
    """A run paused and resumed, now waiting out its delay between stages."""
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=1, per_topic=3))
    api.configure(tenant, within_stage_delay=0, between_stage_delay=between_stage_delay)
    run_id = api.run_now(tenant).json()["run_id"]
    _control(api, tenant, "pause", run_id)
    api.wait_status(tenant, run_id, "paused", timeout=10)
    _control(api, tenant, "resume", run_id)
    api.wait_run(tenant, run_id, lambda run: run["status"] == "running" and run["resumed_at"], timeout=10)
    return tenant, run_id


def test_pause_resume_and_cancel_are_read_off_the_topics(stack: Stack, api: Api) -> None:
    tenant, run_id = _steered_run(api, between_stage_delay=60)
    _control(api, tenant, "cancel", run_id)
    api.wait_status(tenant, run_id, "cancelled", timeout=10)

    commands = wait_messages(stack, "commands", run_id, lambda found: len(found) >= 4)
    assert [m["type"] for _, m in commands] == ["StartRun", "PauseRun", "ResumeRun", "CancelRun"]
    assert len({m["command_id"] for _, m in commands}) == 4
    for record, message in commands:
        assert record.key == tenant.site_id.encode() and set(message) >= COMMAND_FIELDS
        assert (message["site_id"], message["account_id"], message["schema_version"]) == \
            (tenant.site_id, tenant.account_id, 1)

    events = wait_messages(stack, "events", run_id, lambda found: any(m["type"] == "RunCancelled" for m in found))
    unique = sorted({m["event_id"]: m for _, m in events}.values(), key=lambda m: m["sequence"])
    control = [m for m in unique if m["type"] in ("RunPaused", "RunResumed", "RunCancelled")]
    assert [m["type"] for m in control] == ["RunPaused", "RunResumed", "RunCancelled"]
    assert control[0]["data"]["reason"] == "user"
    assert unique[-1]["type"] == "RunCancelled"
    assert all(record.key == tenant.site_id.encode() for record, _ in events)


def test_a_redelivered_command_and_event_change_nothing(stack: Stack, api: Api) -> None:
    tenant, run_id = _steered_run(api, between_stage_delay=1.5)
    commands = wait_messages(stack, "commands", run_id, lambda found: len(found) >= 3)
    start, pause = (next(r for r, m in commands if m["type"] == kind) for kind in ("StartRun", "PauseRun"))
    paused = next(r for r, m in messages_of(stack, "events", run_id) if json.loads(r.value)["type"] == "RunPaused")

    # The running run gets its pause and its start again, and the projector its RunPaused.
    publish(stack, "commands", [pause, start])
    (again,) = publish(stack, "events", [paused])

    run = api.wait_status(tenant, run_id, "completed", "paused", "failed", timeout=60)
    assert run["status"] == "completed", run
    completed = next(r for r, m in messages_of(stack, "events", run_id) if m["type"] == "RunCompleted")
    # Only then is the projector known to have seen the redelivered event before the end.
    assert completed.partition == again.partition and completed.offset > again.offset
    types = _types(api, tenant, run_id)
    assert types.count("RunPaused") == types.count("RunResumed") == types.count("RunStarted") == 1
    history = api.call(tenant.token, "GET", "/api/v1/automation/history", params={"site_id": tenant.site_id}).json()
    assert history["total"] == 1
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
        stored = conn.execute("SELECT count(*) FROM automation_events WHERE originator_id = %s",
                              (uuid.UUID(run_id),)).fetchone()[0]
        projected = conn.execute("SELECT count(*), count(DISTINCT event_id) FROM run_events WHERE run_id = %s",
                                 (run_id,)).fetchone()
        lines = conn.execute("SELECT count(*) FROM run_log_lines WHERE run_id = %s", (run_id,)).fetchone()[0]
    assert projected == (stored, stored) and lines == stored
    assert run["pause_reason"] is None
