"""The planner's reads of pending items, as prepared statements planned once per connection:
what a run may take stays the same however often a read runs, and a read's plan touches its
own stage's tables only. The stages' views hold the rows ``pending_items`` held before them."""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest
from alembic import command

from services.pipeline.adapters.planner_sql import PgPlanner, _batch_statement, _count_pending
from shared.infra.migrate import alembic_config, upgrade
from tests.support.stack import SESSION, drop_database, fresh_database
from tests.support.stores import scratch_store

pytestmark = pytest.mark.integration
# More than the executions after which PostgreSQL's default would switch to a generic plan,
# so that every read below also runs on a connection's long-prepared statement.
REPEATS = 8
KEYWORDS = 1
IMAGES = 6


@pytest.fixture(scope="module")
def store():
    with scratch_store("pending_reads") as (url, store):
        yield url, store


def _site_with_keywords(url: str, count: int) -> tuple[str, list[str]]:
    account, site = str(uuid.uuid4()), str(uuid.uuid4())
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO accounts (id, name, credits) VALUES (%s, 'a', 1000)", (account,))
        conn.execute("INSERT INTO sites (id, account_id, name, domain) VALUES (%s, %s, 's', 'd')", (site, account))
        for n, keyword_id in enumerate(ids):
            conn.execute("INSERT INTO keywords (id, site_id, keyword, keyword_norm, created_at)"
                         " VALUES (%s, %s, %s, %s, now() - interval '1 hour' + %s * interval '1 second')",
                         (keyword_id, site, f"kw {n}", f"kw {n}", n))
    return site, ids


def _run(url: str, site: str, admitted_at: str | None = "now()") -> str:
    run_id = str(uuid.uuid4())
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO pipeline_runs (run_id, site_id, account_id, status, admitted_at)"
                     f" VALUES (%s, %s, 'a', 'running', {admitted_at or 'NULL'})", (run_id, site))
    return run_id


def _pending(planner: PgPlanner, site: str, run_id: str) -> tuple[int, set[str]]:
    counts = {planner.count_pending(site, run_id, KEYWORDS) for _ in range(REPEATS)}
    loads = {frozenset(item["id"] for item in planner.load_batch(site, run_id, KEYWORDS, limit=50))
             for _ in range(REPEATS)}
    assert len(counts) == 1 and len(loads) == 1  # the same answer at every execution
    return counts.pop(), set(loads.pop())


def test_an_item_failed_in_a_run_is_not_taken_again_by_that_run_but_is_by_another(store) -> None:
    url, run_store = store
    planner = PgPlanner(run_store)
    site, (failed, *others) = _site_with_keywords(url, 3)
    failing_run, next_run = _run(url, site), _run(url, site)
    assert _pending(planner, site, failing_run) == (3, {failed, *others})  # planned before the failure

    planner.execute([planner.record_failure(failing_run, KEYWORDS, failed)])

    assert _pending(planner, site, failing_run) == (2, set(others))
    assert _pending(planner, site, next_run) == (3, {failed, *others})
    skipped = planner.load_batch(site, next_run, KEYWORDS, limit=50, skip=[others[0]])
    assert {item["id"] for item in skipped} == {failed, others[1]}


def test_stage_one_takes_the_keywords_created_by_the_runs_admission(store) -> None:
    url, run_store = store
    planner = PgPlanner(run_store)
    site, (first, second) = _site_with_keywords(url, 2)
    with psycopg.connect(url) as conn:  # the second keyword was imported after the admission
        admitted_at = conn.execute("SELECT created_at FROM keywords WHERE id = %s", (first,)).fetchone()[0]
    watermarked = _run(url, site, admitted_at=f"'{admitted_at.isoformat()}'::timestamptz")
    before_watermarks = _run(url, site, admitted_at=None)

    assert _pending(planner, site, watermarked) == (1, {first})
    assert _pending(planner, site, before_watermarks) == (2, {first, second})


def test_the_stores_connections_plan_each_prepared_statement_once(store) -> None:
    _, run_store = store
    with run_store.statements() as cur:
        cur.execute("SHOW plan_cache_mode")
        assert cur.fetchone()["plan_cache_mode"] == "force_generic_plan"


@pytest.mark.parametrize("statement", [_batch_statement(IMAGES), _count_pending(IMAGES)])
def test_a_stages_prepared_read_plans_only_that_stages_branch_of_pending_items(store, statement) -> None:
    url, _ = store
    numbered = iter(range(1, 100))
    generic = re.sub(r"%\((\w+)\)s", lambda _: f"${next(numbered)}", statement)
    with psycopg.connect(url) as conn:
        plan = "\n".join(row[0] for row in conn.execute(f"EXPLAIN (GENERIC_PLAN) {generic}").fetchall())
    assert " on images " in plan
    for other in ("keywords", "clusters", "ideas", "tasks", "content"):
        assert f" on {other} " not in plan, plan


def _items_of_every_stage(url: str) -> None:
    """A site with something pending at each stage, and items done at each that are not."""
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO accounts (id, name, credits) VALUES ('a', 'a', 10)")
        conn.execute("INSERT INTO sites (id, account_id, name, domain) VALUES ('s', 'a', 's', 'd')")
        conn.execute("INSERT INTO clusters (id, site_id, name, description) VALUES"
                     " ('c-new', 's', 'n', 'd'), ('c-done', 's', 'n', 'd')")
        conn.execute("INSERT INTO keywords (id, site_id, keyword, keyword_norm, cluster_id) VALUES"
                     " ('k-new', 's', 'k1', 'k1', NULL), ('k-done', 's', 'k2', 'k2', 'c-done')")
        conn.execute("INSERT INTO ideas (id, site_id, cluster_id, position, title, description, status) VALUES"
                     " ('i-new', 's', 'c-done', 1, 't', 'd', 'new'), ('i-done', 's', 'c-done', 2, 't', 'd', 'queued')")
        conn.execute("INSERT INTO tasks (id, site_id, idea_id, title) VALUES ('t-new', 's', 'i-new', 't'),"
                     " ('t-done', 's', 'i-done', 't')")
        conn.execute("INSERT INTO content (id, site_id, task_id, title, body, word_count, prompts_done) VALUES"
                     " ('p-new', 's', 't-done', 't', 'b', 1, false)")
        conn.execute("INSERT INTO ideas (id, site_id, cluster_id, position, title, description, status) VALUES"
                     " ('i-3', 's', 'c-done', 3, 't', 'd', 'queued'), ('i-4', 's', 'c-done', 4, 't', 'd', 'queued')")
        conn.execute("INSERT INTO tasks (id, site_id, idea_id, title) VALUES ('t-3', 's', 'i-3', 't'),"
                     " ('t-4', 's', 'i-4', 't')")
        conn.execute("INSERT INTO content (id, site_id, task_id, title, body, word_count, prompts_done, status) VALUES"
                     " ('r-waits', 's', 't-3', 't', 'b', 1, true, 'draft'),"
                     " ('r-ready', 's', 't-4', 't', 'b', 1, true, 'draft')")
        conn.execute("INSERT INTO images (id, site_id, content_id, position, kind, prompt, status) VALUES"
                     " ('im-new', 's', 'r-waits', 1, 'featured', 'p', 'pending'),"
                     " ('im-done', 's', 'r-ready', 1, 'featured', 'p', 'generated')")


def _pending_items(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT stage, site_id, item_id, title, created_at FROM pending_items"
                            " ORDER BY stage, item_id").fetchall()


def test_pending_items_holds_the_same_rows_through_the_stage_views_revision() -> None:
    before_views = "0012_append_events"
    name = f"automation_test_pending_views_{SESSION}"
    url = fresh_database(name)
    try:
        upgrade(url, before_views)
        _items_of_every_stage(url)
        rows = _pending_items(url)
        assert [(stage, item) for stage, _, item, _, _ in rows] == [
            (1, "k-new"), (2, "c-new"), (3, "i-new"), (4, "t-new"), (5, "p-new"), (6, "im-new"), (7, "r-ready")]

        upgrade(url)
        assert _pending_items(url) == rows
        with psycopg.connect(url) as conn:
            for stage in range(1, 8):
                assert conn.execute(f"SELECT {stage}, * FROM pending_stage_{stage} ORDER BY item_id").fetchall() \
                    == [row for row in rows if row[0] == stage]

        command.downgrade(alembic_config(url), before_views)
        assert _pending_items(url) == rows
    finally:
        drop_database(name)
