"""One trace from run_now's HTTP request, over the Kafka command, through the pipeline's
decision, its AI calls and the event relay, to the projector's write; logs carry its id."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.client import Api
from tests.support.otlp import OtlpReceiver, ReceivedSpan
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
AI_CALLS = {"ai cluster_keywords", "ai generate_ideas", "ai write_article", "ai image_prompts", "ai generate_image"}


def _run_now_trace(spans: list[ReceivedSpan]) -> str | None:
    for span in spans:
        if span.service == "automation-api" and span.name == "POST /api/v1/automation/run_now":
            return span.trace_id
    return None


def _whole(spans: list[ReceivedSpan], trace_id: str) -> bool:
    names = {s.name for s in spans if s.trace_id == trace_id}
    return AI_CALLS <= names and "project events" in names and any(n.startswith("relay RunCompleted") for n in names)


def _wait_for_trace(receiver: OtlpReceiver, timeout: float = 60.0) -> tuple[str, list[ReceivedSpan]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        spans = receiver.snapshot()
        trace_id = _run_now_trace(spans)
        if trace_id and _whole(spans, trace_id):
            return trace_id, [s for s in spans if s.trace_id == trace_id]
        time.sleep(0.2)
    raise AssertionError(f"no whole run_now trace in {timeout}s: {sorted({s.name for s in receiver.snapshot()})}")


def _log_records(stack: Stack, label: str) -> list[dict]:
    lines = stack.log_path(label).read_text().splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_one_trace_from_run_now_to_the_projection() -> None:
    with OtlpReceiver() as receiver, Stack(
        "tracing", OTEL_TRACES_EXPORTER="otlp", OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_BSP_SCHEDULE_DELAY="100",
    ) as stack:
        api = Api(stack.base_url)
        tenant = api.small_site()
        run_id = api.start_run(tenant)
        api.wait_status(tenant, run_id, "completed")

        trace_id, spans = _wait_for_trace(receiver)
        services = {s.service for s in spans}
        assert {"automation-api", "automation-pipeline", "automation-projector"} <= services
        by_id = {s.span_id: s for s in spans}
        consumed = [s for s in spans if s.service == "automation-pipeline" and by_id.get(s.parent_id, s).service == "automation-api"]
        assert consumed, "the pipeline's consumer span continues the API's publish"
        assert any(s.attributes.get("db.system") == "postgresql" for s in spans if s.service == "automation-projector")

        decided = [r for r in _log_records(stack, "pipeline") if "StartRun" in r["event"] and r.get("run_id") == run_id]
        assert decided and decided[0]["trace_id"] == trace_id
        assert decided[0]["site_id"] == tenant.site_id and decided[0]["account_id"] == tenant.account_id
