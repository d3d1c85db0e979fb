"""Every process's /metrics during a run: the counters the operator watches move."""

from __future__ import annotations

import pytest

from tests.support.client import Api
from tests.support.keywords import keyword_set
from tests.support.metrics import has, scrape, value, wait_for
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
RUN_NOW = "/api/v1/automation/run_now"


@pytest.fixture(scope="module")
def stack():
    with Stack("metrics", METRICS_SAMPLE_SECONDS="0.3", SCHEDULER_INTERVAL_SECONDS="0.3") as stack:
        stack.start_process("scheduler", "services.scheduler")
        yield stack


def test_each_process_counts_a_run(stack: Stack) -> None:
    api = Api(stack.base_url)
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set())
    api.configure(tenant, within_stage_delay=0, between_stage_delay=0)
    # Scraped before the run: what moves below moved because of it.
    before = {label: wait_for(stack.metrics_url(label), lambda s: True)
              for label in ("api", "pipeline", "projector", "scheduler")}

    answer = api.run_now(tenant)
    assert answer.status_code == 202, answer.text
    run = api.wait_status(tenant, answer.json()["run_id"], "completed")

    http = wait_for(stack.metrics_url("api"), lambda s: value(s, "automation_http_requests_total",
                                                                route=RUN_NOW, status="202") == 1)
    assert value(http, "automation_http_request_duration_seconds_count", route=RUN_NOW) == 1
    assert value(http, "automation_http_requests_total", route="/api/v1/automation/runs/{run_id}") > 0
    assert value(http, "faststream_published_messages_total") > value(before["api"], "faststream_published_messages_total")

    items = sum(r["items_processed"] for r in run["stage_results"].values())
    pipeline = wait_for(stack.metrics_url("pipeline"), lambda s: (
        value(s, "automation_runs", status="completed") == 1
        and value(s, "automation_outbox_lag_events") == 0
        and has(s, "automation_consumer_lag_messages", group=stack.env["KAFKA_TOPIC_PREFIX"] + "automation-pipeline")))
    assert value(pipeline, "automation_commands_handled_total", type="StartRun", outcome="accepted") == 1
    assert value(pipeline, "automation_run_transitions_total", status="completed") == 1
    assert value(pipeline, "automation_items_processed_total") == items
    assert value(pipeline, "automation_items_processed_total", stage="keywords_to_clusters") > 0
    assert value(pipeline, "automation_ai_call_duration_seconds_count", stage="tasks_to_content",
                 provider="offline", outcome="ok") > 0
    assert value(pipeline, "automation_ai_tokens_total", stage="tasks_to_content") > 0
    assert value(pipeline, "automation_credits_charged_total") == run["total_credits_used"] > 0
    assert value(pipeline, "automation_events_relayed_total") > 0
    assert value(pipeline, "faststream_received_messages_total") >= 1

    projector = wait_for(stack.metrics_url("projector"), lambda s: (
        value(s, "automation_events_projected_total") >= value(pipeline, "automation_events_relayed_total")
        and has(s, "automation_consumer_lag_messages", group=stack.env["KAFKA_TOPIC_PREFIX"] + "automation-projector")))
    assert has(projector, "automation_projection_lag_seconds")

    ticks = value(before["scheduler"], "automation_scheduler_ticks_total", outcome="ok")
    wait_for(stack.metrics_url("scheduler"), lambda s: value(s, "automation_scheduler_ticks_total", outcome="ok") > ticks)

