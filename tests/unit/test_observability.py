"""The instrumentation's own logic: which env turns tracing on, what a save counts, what the
AI decorator records, how requests are labelled, and what a log line looks like."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from services.api.entrypoints.http_metrics import HttpMetrics
from services.pipeline.adapters.ai.instrumented import STAGE_OF_METHOD, InstrumentedAI
from services.pipeline.adapters.ai.offline import OfflineAI
from services.pipeline.adapters.recorded_metrics import count_recorded
from services.pipeline.application.ai_port import AIError, ArticleBrief
from shared.observability.tracing import requested_exporters
from tests.support.stack import ROOT

pytestmark = pytest.mark.unit


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize(("env", "exporters"), [
    ({}, []),
    ({"OTEL_TRACES_EXPORTER": "none"}, []),
    ({"OTEL_TRACES_EXPORTER": "otlp,console"}, ["otlp", "console"]),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ["otlp"]),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, ["otlp"]),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, []),
])
def test_tracing_is_off_unless_the_otel_variables_ask(env: dict, exporters: list) -> None:
    assert requested_exporters(env) == exporters


def _event(kind: str, **data: object) -> object:
    return type(kind, (), {})() if not data else type(kind, (), {"data": data})()


def test_a_save_counts_transitions_items_and_credits() -> None:
    before = (sample("automation_items_processed_total", stage="clusters_to_ideas"),
              sample("automation_items_failed_total", stage="clusters_to_ideas"),
              sample("automation_credits_charged_total", stage="clusters_to_ideas"),
              sample("automation_run_transitions_total", status="paused"))
    count_recorded([_event("BatchProcessed", stage=2, processed=5, failed=2, credits=7, batch_id="b",
                           outputs_created=5), _event("RunPaused")])
    after = (sample("automation_items_processed_total", stage="clusters_to_ideas"),
             sample("automation_items_failed_total", stage="clusters_to_ideas"),
             sample("automation_credits_charged_total", stage="clusters_to_ideas"),
             sample("automation_run_transitions_total", status="paused"))
    assert [a - b for a, b in zip(after, before)] == [5, 2, 7, 1]


async def test_the_ai_decorator_times_calls_and_counts_tokens_without_changing_answers() -> None:
    labels = {"stage": "tasks_to_content", "provider": "offline"}
    ok = sample("automation_ai_call_duration_seconds_count", **labels, outcome="ok")
    failed = sample("automation_ai_call_duration_seconds_count", **labels, outcome="error")
    tokens = sample("automation_ai_tokens_total", **labels, kind="completion")
    inner = OfflineAI(fail_pattern="refused")
    ai = InstrumentedAI(inner)
    brief = ArticleBrief("t1", "Espresso at home", "how to", ("espresso",))
    assert await ai.write_article(brief) == await inner.write_article(brief)
    with pytest.raises(AIError):
        await ai.write_article(ArticleBrief("t2", "refused topic", "", ("x",)))
    assert sample("automation_ai_call_duration_seconds_count", **labels, outcome="ok") == ok + 1
    assert sample("automation_ai_call_duration_seconds_count", **labels, outcome="error") == failed + 1
    assert sample("automation_ai_tokens_total", **labels, kind="completion") > tokens
    assert ai.latency_ms == 0  # anything else is the inner provider's
    assert set(STAGE_OF_METHOD) == {"cluster_keywords", "generate_ideas", "write_article", "image_prompts",
                                    "generate_image"}


async def test_requests_are_labelled_by_route_template_not_path() -> None:
    app = FastAPI()

    @app.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict:
        return {"id": thing_id}

    transport = httpx.ASGITransport(app=HttpMetrics(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        before = sample("automation_http_requests_total", method="GET", route="/things/{thing_id}", status="200")
        missing = sample("automation_http_requests_total", method="GET", route="unmatched", status="404")
        for n in range(3):
            assert (await client.get(f"/things/{n}")).status_code == 200
        assert (await client.get("/nowhere")).status_code == 404
    assert sample("automation_http_requests_total", method="GET", route="/things/{thing_id}", status="200") == before + 3
    assert sample("automation_http_requests_total", method="GET", route="unmatched", status="404") == missing + 1


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_log_lines_carry_the_bound_ids(log_format: str) -> None:
    script = (
        "import logging\n"
        "from shared.infra.settings import Settings\n"
        "from shared.observability.logs import bind, configure_logging\n"
        f"configure_logging(Settings(log_format='{log_format}'), 'pipeline')\n"
        "bind(run_id='r1', site_id='s1', account_id=None)\n"
        "logging.getLogger('pipeline').info('batch %s done', 3)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    line = out.stderr.strip().splitlines()[-1]
    if log_format == "console":
        assert "batch 3 done" in line and "run_id=r1" in line
        return
    record = json.loads(line)
    assert record["event"] == "batch 3 done" and record["level"] == "info" and record["process"] == "pipeline"
    assert record["run_id"] == "r1" and record["site_id"] == "s1" and "account_id" not in record
