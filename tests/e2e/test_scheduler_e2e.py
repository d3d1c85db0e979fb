"""A scheduled run through real processes: config over HTTP → scheduler → pipeline → history."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any, Iterator

import pytest

from shared.schedule import ScheduleSpec, latest_slot_at_or_before
from tests.support.client import Api, Tenant
from tests.support.keywords import keyword_set
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sched_stack() -> Iterator[Stack]:
    with Stack("sched") as stack:
        # Two replicas, as a deployment with a spare would run them.
        for label in ("scheduler", "scheduler-2"):
            stack.start_process(label, "services.scheduler", SCHEDULER_INTERVAL_SECONDS="1")
        yield stack


def scheduled_runs(api: Api, tenant: Tenant) -> list[dict[str, Any]]:
    answer = api.call(tenant.token, "GET", "/api/v1/automation/history", params={"site_id": tenant.site_id})
    assert answer.status_code == 200, answer.text
    return [run for run in answer.json()["runs"] if run["trigger_type"] == "scheduled"]


def wait_scheduled_run(api: Api, tenant: Tenant, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if runs := scheduled_runs(api, tenant):
            return runs[0]
        time.sleep(0.2)
    raise TimeoutError(f"no scheduled run for site {tenant.site_id} within {timeout}s")


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_a_due_site_starts_one_scheduled_run_that_completes(sched_stack: Stack) -> None:
    api = Api(sched_stack.base_url)
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=2))
    # The next minute: a slot that began before the schedule was set would not be due.
    slot = (datetime.now(UTC) + timedelta(minutes=1)).replace(second=0, microsecond=0)
    scheduled_time = slot.strftime("%H:%M")
    config = api.configure(tenant, is_enabled=True, frequency="daily", scheduled_time=scheduled_time,
                           within_stage_delay=0, between_stage_delay=0)
    assert config["next_run_at"] == iso(slot)
    assert slot == latest_slot_at_or_before(ScheduleSpec("daily", scheduled_time), slot)

    run = wait_scheduled_run(api, tenant, timeout=120)
    finished = api.wait_status(tenant, run["run_id"], "completed")
    assert finished["trigger_type"] == "scheduled"

    config = api.call(tenant.token, "GET", "/api/v1/automation/config", params={"site_id": tenant.site_id}).json()
    assert (config["last_run_at"], config["next_run_at"]) == (finished["started_at"], iso(slot + timedelta(days=1)))
    # Both replicas have ticked several times since; absence can only be shown by waiting.
    time.sleep(3)
    assert [r["run_id"] for r in scheduled_runs(api, tenant)] == [run["run_id"]]


def test_a_schedule_set_after_todays_time_starts_tomorrow(sched_stack: Stack) -> None:
    api = Api(sched_stack.base_url)
    tenant = api.tenant()
    earlier = (datetime.now(UTC) - timedelta(minutes=2)).replace(second=0, microsecond=0)
    config = api.configure(tenant, is_enabled=True, frequency="daily", scheduled_time=earlier.strftime("%H:%M"))
    assert config["next_run_at"] == iso(earlier + timedelta(days=1))
    time.sleep(3)  # both replicas tick every second: none may start the slot that already passed
    assert scheduled_runs(api, tenant) == []
