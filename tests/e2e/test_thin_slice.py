"""The whole slice through real processes: HTTP → Kafka → event store → Kafka → read model → HTTP."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.support.client import Api
from tests.support.kafka import bootstrap, topic
from tests.support.keywords import keyword_set
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
FAST = {"within_stage_delay": 0, "between_stage_delay": 0}


def test_run_now_completes_and_shows_in_current_run_and_history(api: Api) -> None:
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set())
    # A second between stages keeps the run current long enough to be seen there.
    api.configure(tenant, within_stage_delay=0, between_stage_delay=1)

    answer = api.run_now(tenant)
    assert answer.status_code == 202, answer.text
    run_id = answer.json()["run_id"]
    assert answer.json()["status"] == "running"

    # The read model may lag the 202 by a moment: poll until the run shows, with a deadline.
    deadline = time.monotonic() + 5
    while (current := api.call(tenant.token, "GET", "/api/v1/automation/current_run",
                               params={"site_id": tenant.site_id})).json()["run"] is None:
        assert time.monotonic() < deadline, "the running run never showed in current_run"
        time.sleep(0.05)
    assert current.status_code == 200
    shown = current.json()["run"]
    assert (shown["run_id"], shown["site_id"], shown["status"]) == (run_id, tenant.site_id, "running")

    run = api.wait_status(tenant, run_id, "completed")
    assert run["trigger_type"] == "manual"
    assert set(run["stage_results"]) == {str(n) for n in range(1, 8)}
    assert all(not result["partial"] for result in run["stage_results"].values())

    history = api.call(tenant.token, "GET", "/api/v1/automation/history", params={"site_id": tenant.site_id}).json()
    assert history["total"] == 1 and history["runs"][0]["run_id"] == run_id
    idle = api.call(tenant.token, "GET", "/api/v1/automation/current_run", params={"site_id": tenant.site_id})
    assert idle.json() == {"run": None}
    config = api.call(tenant.token, "GET", "/api/v1/automation/config", params={"site_id": tenant.site_id}).json()
    assert config["last_run_at"] == run["started_at"]


def test_events_reach_the_read_model_once_each_in_order(api: Api) -> None:
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=2))
    api.configure(tenant, **FAST)
    run_id = api.run_now(tenant).json()["run_id"]
    api.wait_status(tenant, run_id, "completed")

    events = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "RunStarted" and events[-1]["type"] == "RunCompleted"
    for previous, event in zip(events, events[1:]):
        assert event["prev_hash"] == previous["hash"]


def test_malformed_messages_are_dropped_without_blocking_their_partition(stack, api: Api) -> None:
    import asyncio

    from aiokafka import AIOKafkaProducer

    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=1))
    api.configure(tenant, **FAST)

    async def send_garbage() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap(stack))
        await producer.start()
        try:
            key = tenant.site_id.encode()
            await producer.send_and_wait(topic(stack, "commands"), b"not json", key=key)
            await producer.send_and_wait(topic(stack, "commands"), b'{"type": "StartRun"}', key=key)
            await producer.send_and_wait(topic(stack, "events"), b'{"type": "RunStarted"}', key=key)
        finally:
            await producer.stop()

    asyncio.run(send_garbage())
    answer = api.run_now(tenant)
    assert answer.status_code == 202, answer.text
    api.wait_status(tenant, answer.json()["run_id"], "completed", timeout=60)


def test_the_api_serves_the_asyncapi_document_of_its_messages(api: Api) -> None:
    document = api.http.get("/asyncapi.json").json()
    assert document["asyncapi"].startswith("3.")
    assert {c["address"] for c in document["channels"].values()} == {"automation.commands", "automation.events"}


def test_the_processes_connect_as_the_app_role(stack: Stack, api: Api) -> None:
    """After a run, every session of the api, pipeline and projector on the stack's database
    is `automation_app`'s, the role that may not rewrite stored events (the stack migrated
    its database as the owner, as `automation db upgrade` does)."""
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set())
    api.configure(tenant, **FAST)
    run_id = api.run_now(tenant).json()["run_id"]
    api.wait_status(tenant, run_id, "completed")
    with psycopg.connect(stack.owner_url) as conn:
        users = {row[0] for row in conn.execute(
            "SELECT usename FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")}
    assert users == {"automation_app"}
