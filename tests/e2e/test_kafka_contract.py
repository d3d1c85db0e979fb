"""CONTRACT §5 as the publishing module sees it: the messages on the topics themselves."""

from __future__ import annotations

import json

import pytest

from tests.support.client import Api
from tests.support.kafka import messages_of
from tests.support.keywords import keyword_set
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
COMMAND_FIELDS = {"type", "command_id", "site_id", "account_id", "run_id", "trigger_type", "issued_at", "schema_version"}
EVENT_FIELDS = {"event_id", "type", "run_id", "site_id", "account_id", "sequence", "occurred_at", "schema_version", "data"}


def test_commands_and_events_on_kafka_follow_the_contract(stack: Stack, api: Api) -> None:
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=1, per_topic=3))
    api.configure(tenant, within_stage_delay=0, between_stage_delay=0)
    run_id = api.run_now(tenant).json()["run_id"]
    api.wait_status(tenant, run_id, "completed")

    starts = [r for r, _ in messages_of(stack, "commands", run_id)]
    assert len(starts) == 1 and starts[0].key == tenant.site_id.encode()
    start = json.loads(starts[0].value)
    assert set(start) >= COMMAND_FIELDS
    assert (start["type"], start["trigger_type"], start["schema_version"]) == ("StartRun", "manual", 1)
    assert (start["site_id"], start["account_id"]) == (tenant.site_id, tenant.account_id)

    records = [r for r, _ in messages_of(stack, "events", run_id)]
    assert {r.key for r in records} == {tenant.site_id.encode()} and len({r.partition for r in records}) == 1
    events = [json.loads(r.value) for r in records]
    unique = {e["event_id"]: e for e in events}  # at least once: duplicates share an event_id
    assert all(unique[e["event_id"]] == e for e in events)
    ordered = sorted(unique.values(), key=lambda e: e["sequence"])
    assert [e["sequence"] for e in ordered] == list(range(1, len(ordered) + 1))
    first_seen = list(dict.fromkeys(e["event_id"] for e in events))
    assert first_seen == [e["event_id"] for e in ordered], "events arrive in order per site"
    for event in ordered:
        assert set(event) >= EVENT_FIELDS and event["schema_version"] == 1
        assert (event["site_id"], event["account_id"]) == (tenant.site_id, tenant.account_id)
    by_type = {}
    for event in ordered:
        by_type.setdefault(event["type"], []).append(event["data"])
    assert {"RunStarted", "StageStarted", "StageCompleted", "CreditsUsed", "RunCompleted",
            "ContentReadyForReview"} <= set(by_type)
    assert all(set(d) >= {"stage", "credits"} for d in by_type["CreditsUsed"])
    assert all(set(d) >= {"content_id", "title"} for d in by_type["ContentReadyForReview"])
    assert all(set(d) >= {"stage", "name", "items_total", "items_processed", "items_failed", "outputs_created",
                          "credits_used", "started_at", "completed_at", "partial"} for d in by_type["StageCompleted"])
    assert [d["stage"] for d in by_type["StageCompleted"]] == list(range(1, 8))
