"""The planner's reads of pending items, as prepared statements planned once per connection:
what a run may take stays the same however often a read runs, and a read's plan touches its
own stage's tables only."""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest

from services.pipeline.adapters.planner_sql import PgPlanner, _batch_statement, _count_pending
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
