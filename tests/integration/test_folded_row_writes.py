"""Row writes saved together are folded into one statement per shape, with the effect the
single-row statements had: the same values (bytea, NULLs, numbers), the same guards, a row
updated twice updated in order, and nothing left when the save fails."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from eventsourcing.persistence import IntegrityError

from services.pipeline.adapters.event_store import RunStore
from services.pipeline.adapters.planner_writes import PgPlannerWrites
from services.pipeline.domain.run import AutomationRun
from tests.support.stores import scratch_store

pytestmark = pytest.mark.integration
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
rows = PgPlannerWrites()


@pytest.fixture(scope="module")
def store():
    with scratch_store("folded") as (_, store):
        yield store


@pytest.fixture
def site(store) -> str:
    site_id = f"site-{uuid.uuid4()}"
    with store.cursor() as cur:
        cur.execute("INSERT INTO accounts (id, name, credits) VALUES (%s, 'a', 100)", (site_id,))
        cur.execute("INSERT INTO sites (id, account_id, name, domain) VALUES (%s, %s, 's', 'd')", (site_id, site_id))
    return site_id


def _save(store: RunStore, writes: list) -> AutomationRun:
    run = AutomationRun.start(run_id=str(uuid.uuid4()), site_id="site", account_id="account",
                              trigger_type="manual", config={}, reserved_credits=0, estimated_credits=0, now=NOW)
    store.save_with(run, side_writes=writes)
    return run


def _article(store: RunStore, site: str) -> str:
    """A content row (with the cluster, idea and task it hangs from); returns its id."""
    ids = {name: f"{name}-{uuid.uuid4()}" for name in ("cluster", "idea", "task", "content")}
    _save(store, [
        rows.insert("clusters", {"id": ids["cluster"], "site_id": site, "name": "c", "description": "d"}),
        rows.insert("ideas", {"id": ids["idea"], "site_id": site, "cluster_id": ids["cluster"], "position": 0,
                              "title": "t", "description": "d"}),
        rows.insert("tasks", {"id": ids["task"], "site_id": site, "idea_id": ids["idea"], "title": "t"}),
        rows.insert("content", {"id": ids["content"], "site_id": site, "task_id": ids["task"], "title": "t",
                                "body": "b", "word_count": 1}),
    ])
    return ids["content"]


def _images(store: RunStore, content_id: str) -> dict[str, tuple]:
    with store.cursor() as cur:
        cur.execute("SELECT id, position, kind, prompt, status, url, png FROM images WHERE content_id = %s",
                    (content_id,))
        return {r["id"]: (r["position"], r["kind"], r["prompt"], r["status"], r["url"],
                          None if r["png"] is None else bytes(r["png"])) for r in cur.fetchall()}


def _image(site: str, content_id: str, position: int) -> dict:
    return {"id": f"img-{uuid.uuid4()}", "site_id": site, "content_id": content_id, "position": position,
            "kind": "featured" if position == 0 else "in_article", "prompt": f"draw «{position}» 'it'"}


def test_folded_inserts_and_updates_write_the_values_single_rows_would(store, site) -> None:
    content_id = _article(store, site)
    images = [_image(site, content_id, position) for position in range(5)]
    _save(store, [rows.insert("images", image) for image in images[:4]])
    _save(store, [rows.insert("images", images[4])])  # alone: its single-row statement
    png = bytes(range(256)) + b"\x00\\x"
    _save(store, [
        rows.update("images", images[0]["id"], {"status": "generated", "url": "/a", "png": png}),
        rows.update("images", images[1]["id"], {"status": "failed", "url": None, "png": None}),
        rows.update("images", images[2]["id"], {"status": "generated", "url": "/c", "png": b""}),
        rows.update("images", images[3]["id"], {"status": "failed", "url": None, "png": None}),
    ])
    _save(store, [rows.update("images", images[4]["id"], {"status": "failed", "url": None, "png": None}),
                  rows.update("content", content_id, {"prompts_done": True})])

    stored = _images(store, content_id)
    expected_after = {0: ("generated", "/a", png), 1: ("failed", None, None), 2: ("generated", "/c", b""),
                      3: ("failed", None, None), 4: ("failed", None, None)}
    assert stored == {image["id"]: (image["position"], image["kind"], image["prompt"], *expected_after[position])
                      for position, image in enumerate(images)}
    with store.cursor() as cur:
        cur.execute("SELECT prompts_done FROM content WHERE id = %s", (content_id,))
        assert cur.fetchone()["prompts_done"] is True


def test_folded_updates_keep_their_guards(store, site) -> None:
    content_ids = [_article(store, site) for _ in range(3)]
    with store.cursor() as cur:
        cur.execute("UPDATE content SET status = 'review' WHERE id = %s", (content_ids[1],))
        cur.execute("INSERT INTO clusters (id, site_id, name, description) VALUES (%s, %s, 'c', 'd')"
                    " RETURNING id", (f"old-{uuid.uuid4()}", site))
        old_cluster = cur.fetchone()["id"]
        keywords = [f"kw-{uuid.uuid4()}" for _ in range(4)]
        for n, keyword_id in enumerate(keywords):
            cur.execute("INSERT INTO keywords (id, site_id, keyword, keyword_norm, cluster_id) VALUES (%s, %s, %s, %s, %s)",
                        (keyword_id, site, f"k{n}", f"{keyword_id}", old_cluster if n == 2 else None))
    new_cluster = f"new-{uuid.uuid4()}"
    _save(store, [
        rows.insert("clusters", {"id": new_cluster, "site_id": site, "name": "n", "description": "d"}),
        *(rows.update("keywords", k, {"cluster_id": new_cluster, "status": "mapped"}, when={"cluster_id": None})
          for k in keywords),
        *(rows.update("content", c, {"status": "review"}, when={"status": "draft"}) for c in content_ids),
    ])
    with store.cursor() as cur:
        cur.execute("SELECT id, cluster_id, status FROM keywords WHERE site_id = %s", (site,))
        filed = {r["id"]: (r["cluster_id"], r["status"]) for r in cur.fetchall()}
        cur.execute("SELECT count(*) AS n FROM content WHERE id = ANY(%s) AND status = 'review'", (content_ids,))
        assert cur.fetchone()["n"] == 3
    assert filed == {k: (old_cluster, "new") if n == 2 else (new_cluster, "mapped") for n, k in enumerate(keywords)}


def test_a_row_updated_twice_in_one_save_is_updated_in_order(store, site) -> None:
    content_id = _article(store, site)
    images = [_image(site, content_id, position) for position in range(2)]
    clusters = [f"cl-{uuid.uuid4()}" for _ in range(2)]
    keyword_id = f"kw-{uuid.uuid4()}"
    with store.cursor() as cur:
        cur.execute("INSERT INTO keywords (id, site_id, keyword, keyword_norm) VALUES (%s, %s, 'k', %s)",
                    (keyword_id, site, keyword_id))
    _save(store, [
        *(rows.insert("clusters", {"id": c, "site_id": site, "name": "n", "description": "d"}) for c in clusters),
        *(rows.insert("images", image) for image in images),
        rows.update("images", images[0]["id"], {"status": "generated", "url": "/first", "png": b"1"}),
        rows.update("images", images[1]["id"], {"status": "generated", "url": "/other", "png": b"2"}),
        rows.update("images", images[0]["id"], {"status": "generated", "url": "/second", "png": b"3"}),
        *(rows.update("keywords", keyword_id, {"cluster_id": c, "status": "mapped"}, when={"cluster_id": None})
          for c in clusters),
    ])
    stored = _images(store, content_id)
    assert (stored[images[0]["id"]][4:], stored[images[1]["id"]][4:]) == (("/second", b"3"), ("/other", b"2"))
    with store.cursor() as cur:
        cur.execute("SELECT cluster_id FROM keywords WHERE id = %s", (keyword_id,))
        assert cur.fetchone()["cluster_id"] == clusters[0]  # the first filing holds


def test_a_save_that_fails_leaves_none_of_its_folded_rows(store, site) -> None:
    content_id = _article(store, site)
    run = _save(store, [])
    stale = store.get(run.id)
    winner = store.get(run.id)
    winner.start_stage(1, 5, NOW)
    store.save_with(winner)
    stale.start_stage(1, 3, NOW)
    with pytest.raises(IntegrityError):
        store.save_with(stale, side_writes=[rows.insert("images", _image(site, content_id, p)) for p in range(3)]
                        + [rows.update("content", content_id, {"prompts_done": True})])
    assert _images(store, content_id) == {}
    with store.cursor() as cur:
        cur.execute("SELECT prompts_done FROM content WHERE id = %s", (content_id,))
        assert cur.fetchone()["prompts_done"] is False
