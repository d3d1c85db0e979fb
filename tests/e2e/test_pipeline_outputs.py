"""A whole run's outputs, and an item that fails, through the real processes."""

from __future__ import annotations

import struct

import pytest

from tests.conftest import FAILING_TOPIC
from tests.support.client import Api
from tests.support.keywords import keyword_set
from tests.support.samples import sample_keywords

pytestmark = pytest.mark.e2e
FAST = {"within_stage_delay": 0, "between_stage_delay": 0}


def test_a_full_run_produces_every_output_with_sensible_counts(api: Api) -> None:
    tenant = api.tenant()
    keywords = sample_keywords(60)
    answer = api.call(tenant.token, "POST", f"/api/v1/sites/{tenant.site_id}/keywords", json={"keywords": keywords})
    assert answer.json() == {"created": 60, "duplicates": 0}
    api.configure(tenant, **FAST, stage_1_batch_size=20)
    run_id = api.run_now(tenant).json()["run_id"]
    run = api.wait_status(tenant, run_id, "completed", "failed", timeout=120)
    assert run["status"] == "completed", run["error_message"]

    listed = {kind: api.listing(tenant, kind)["items"] for kind in ("keywords", "clusters", "ideas", "tasks", "content", "images")}
    assert all(k["cluster_id"] for k in listed["keywords"])
    assert 4 <= len(listed["clusters"]) <= 40, "clustering should group keywords, not echo them"
    assert sum(len(c["keyword_ids"]) for c in listed["clusters"]) == 60
    assert {i["cluster_id"] for i in listed["ideas"]} == {c["id"] for c in listed["clusters"]}
    assert sorted(t["idea_id"] for t in listed["tasks"]) == sorted(i["id"] for i in listed["ideas"])
    assert all(i["status"] == "queued" for i in listed["ideas"])
    assert sorted(c["task_id"] for c in listed["content"]) == sorted(t["id"] for t in listed["tasks"])
    for content in listed["content"]:
        assert content["status"] == "review"
        assert content["word_count"] >= 300 and "\n## " in content["body"]
    featured = [i["content_id"] for i in listed["images"] if i["kind"] == "featured"]
    assert sorted(featured) == sorted(c["id"] for c in listed["content"])
    assert all(i["status"] == "generated" and i["url"] for i in listed["images"])

    results = run["stage_results"]
    assert results["1"]["items_processed"] == 60 and results["1"]["outputs_created"] == len(listed["clusters"])
    assert results["4"]["outputs_created"] == len(listed["content"])
    assert results["6"]["outputs_created"] == len(listed["images"])
    assert results["7"]["items_processed"] == len(listed["content"])
    assert run["total_credits_used"] == sum(r["credits_used"] for r in results.values()) > 0

    events = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
    ready = [e["data"]["content_id"] for e in events if e["type"] == "ContentReadyForReview"]
    assert sorted(ready) == sorted(c["id"] for c in listed["content"])
    used = sum(e["data"]["credits"] for e in events if e["type"] == "CreditsUsed")
    assert used == run["total_credits_used"]

    image = listed["images"][0]
    png = api.http.get(image["url"], headers={"Authorization": f"Bearer {tenant.token}"})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">I", png.content[16:20])[0] > 0


def test_a_failing_item_is_counted_logged_and_skipped(api: Api) -> None:
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set() + [f"{FAILING_TOPIC} spice blend"])
    api.configure(tenant, **FAST)
    run_id = api.run_now(tenant).json()["run_id"]
    run = api.wait_status(tenant, run_id, "completed", "failed", timeout=60)
    assert run["status"] == "completed"

    failed = {stage: r["items_failed"] for stage, r in run["stage_results"].items() if r["items_failed"]}
    assert failed == {"2": 1}
    events = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
    failures = [e for e in events if e["type"] == "ItemFailed"]
    assert len(failures) == 1 and FAILING_TOPIC in failures[0]["data"]["title"].lower()
    clusters = api.listing(tenant, "clusters")["items"]
    ideas = api.listing(tenant, "ideas")["items"]
    assert len({i["cluster_id"] for i in ideas}) == len(clusters) - 1  # every other cluster went on
    logs = api.call(tenant.token, "GET", "/api/v1/automation/logs", params={"run_id": run_id, "lines": 500}).json()
    assert any("failed" in line and FAILING_TOPIC in line.lower() for line in logs["lines"])
    overview = api.call(tenant.token, "GET", "/api/v1/automation/pipeline_overview", params={"site_id": tenant.site_id})
    assert overview.json()["stages"][1]["pending"] == 1  # the failed cluster waits for the next run
