"""GET /api/v1/sites/{site_id}/content/{content_id} (CONTRACT §7), and the event that points at it."""

from __future__ import annotations

import pytest

from tests.support.client import Api
from tests.support.keywords import keyword_set

pytestmark = pytest.mark.e2e


def test_each_content_item_of_a_run_as_the_listing_has_it_with_where_it_came_from(api: Api) -> None:
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=2, per_topic=4))
    api.configure(tenant, within_stage_delay=0, between_stage_delay=0)
    run_id = api.run_now(tenant).json()["run_id"]
    assert api.wait_status(tenant, run_id, "completed", "failed")["status"] == "completed"
    listed = {kind: api.listing(tenant, kind)["items"] for kind in ("content", "images", "tasks", "ideas", "clusters")}
    keywords = {k["id"]: k["keyword"] for k in api.listing(tenant, "keywords")["items"]}
    idea_of_task = {t["id"]: t["idea_id"] for t in listed["tasks"]}
    ideas = {i["id"]: i for i in listed["ideas"]}
    clusters = {c["id"]: c for c in listed["clusters"]}
    assert listed["content"]

    for item in listed["content"]:
        answer = api.call(tenant.token, "GET", f"/api/v1/sites/{tenant.site_id}/content/{item['id']}")
        assert answer.status_code == 200, answer.text
        detail = answer.json()
        assert {k: detail[k] for k in item} == item  # the listing's fields, body included
        images = [{k: i[k] for k in ("id", "kind", "prompt", "status", "url")}
                  for i in listed["images"] if i["content_id"] == item["id"]]
        assert sorted(detail["images"], key=lambda i: i["id"]) == sorted(images, key=lambda i: i["id"])
        assert detail["images"][0]["kind"] == "featured"
        idea = ideas[idea_of_task[item["task_id"]]]
        cluster = clusters[idea["cluster_id"]]
        assert detail["idea"] == {"id": idea["id"], "title": idea["title"]}
        assert detail["cluster"] == {"id": cluster["id"], "name": cluster["name"]}
        assert sorted(detail["keywords"]) == sorted(keywords[k] for k in cluster["keyword_ids"])

    events = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
    ready = [e["data"] for e in events if e["type"] == "ContentReadyForReview"]
    assert sorted(d["content_id"] for d in ready) == sorted(c["id"] for c in listed["content"])
    for data in ready:
        assert data["site_id"] == tenant.site_id
        assert data["content_url"] == f"/api/v1/sites/{tenant.site_id}/content/{data['content_id']}"
        assert api.call(tenant.token, "GET", data["content_url"]).json()["title"] == data["title"]

    other = api.tenant()
    content_url = ready[0]["content_url"]
    assert api.call(other.token, "GET", content_url).status_code == 404
    # Another account's content under one of its own sites is just as unknown.
    foreign = api.call(other.token, "GET", f"/api/v1/sites/{other.site_id}/content/{ready[0]['content_id']}")
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
    missing = api.call(tenant.token, "GET", f"/api/v1/sites/{tenant.site_id}/content/no-such-content")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert api.http.get(content_url).status_code == 401
