"""The automation-events wheel, built from shared/events and installed in a fresh virtualenv
with nothing but its own dependencies, reads every event type of real runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FAILING_TOPIC
from tests.support.kafka import read_topic
from tests.support.client import Api
from tests.support.keywords import keyword_set
from tests.support.stack import ROOT, Stack

pytestmark = pytest.mark.e2e
# pydantic and what pydantic itself needs: nothing of this repository's stack.
ALLOWED = {"automation-events", "pydantic", "pydantic-core", "annotated-types", "typing-extensions",
           "typing-inspection", "pip", "setuptools"}
READER = """
import json, sys
from automation_events import Envelope, parse_event
from automation_events.json_schemas import load

classes, first = {}, None
for line in open(sys.argv[1], "rb"):
    event = parse_event(line)
    first = first or json.loads(line)
    classes.setdefault(event.type, set()).add(type(event).__name__)
    if event.type == "ContentReadyForReview":
        assert event.data.content_url.endswith(event.data.content_id), event
unknown = parse_event(json.dumps({**first, "type": "SomethingNew", "data": {"x": 1}}).encode())
print(json.dumps({"classes": {t: sorted(c) for t, c in classes.items()}, "unknown": type(unknown).__name__,
                  "schema": load("events/ContentReadyForReview.json")["title"]}))
"""


def real_run_events(stack: Stack, api: Api) -> list[bytes]:
    """Raw messages of a run that paused, resumed and failed an item, and of a cancelled run."""
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=2, per_topic=2) + [f"{FAILING_TOPIC} spice blend"])
    api.configure(tenant, within_stage_delay=0, between_stage_delay=0.5)
    run_id = api.run_now(tenant).json()["run_id"]
    assert api.call(tenant.token, "POST", "/api/v1/automation/pause", params={"run_id": run_id}).status_code == 202
    api.wait_status(tenant, run_id, "paused")
    assert api.call(tenant.token, "POST", "/api/v1/automation/resume", params={"run_id": run_id}).status_code == 202
    other = api.tenant()
    api.import_keywords(other, keyword_set(topics=1, per_topic=2))
    api.configure(other, within_stage_delay=5, between_stage_delay=5)
    cancelled = api.run_now(other).json()["run_id"]
    api.call(other.token, "POST", "/api/v1/automation/cancel", params={"run_id": cancelled})
    api.wait_status(other, cancelled, "cancelled")
    api.wait_status(tenant, run_id, "completed", timeout=120)
    records = read_topic(stack, "events")
    return [r.value for r in records if json.loads(r.value)["run_id"] in (run_id, cancelled)]


def build_wheel(into: Path) -> Path:
    # Built from a copy: an in-place build would leave build/ inside the root package's tree.
    source = into / "source"
    shutil.copytree(ROOT / "shared" / "events", source,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(source), "-w", str(into)],
                   check=True)
    (wheel,) = into.glob("automation_events-*.whl")
    return wheel


def fresh_venv(path: Path, wheel: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    python = path / "bin" / "python"
    # pydantic comes from the package index (or pip's cache), as for any outside consumer.
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True)
    return python


def test_the_wheel_in_a_clean_virtualenv_parses_every_event_type_of_real_runs(
    stack: Stack, api: Api, tmp_path: Path
) -> None:
    events = real_run_events(stack, api)
    (tmp_path / "events.jsonl").write_bytes(b"\n".join(events) + b"\n")
    python = fresh_venv(tmp_path / "venv", build_wheel(tmp_path))

    installed = json.loads(subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], check=True,
                                          capture_output=True, text=True).stdout)
    assert {p["name"].lower().replace("_", "-") for p in installed} <= ALLOWED
    answer = subprocess.run([str(python), "-c", READER, str(tmp_path / "events.jsonl")], cwd=tmp_path,
                            check=True, capture_output=True, text=True)
    result = json.loads(answer.stdout)
    assert {"RunStarted", "StageStarted", "BatchStarted", "BatchProcessed", "ItemFailed", "CreditsUsed",
            "StageCompleted", "ContentReadyForReview", "RunPaused", "RunResumed", "RunCancelled",
            "RunCompleted"} <= set(result["classes"])
    assert all(classes == [type_] for type_, classes in result["classes"].items()), result["classes"]
    assert result["unknown"] == "Envelope"
    assert result["schema"] == "ContentReadyForReview"
