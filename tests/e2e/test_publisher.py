"""The example publisher (examples/publisher) through real Kafka: each review-ready article
lands in its folder exactly once, across a SIGKILL and restart and a replay of the topic."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.client import Api, Tenant
from tests.support.keywords import keyword_set
from tests.support.publisher import Publisher, group_lag, reset_to_beginning
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def tenant(api: Api) -> Tenant:
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=4, per_topic=5))
    return tenant


@pytest.fixture
def publisher(stack: Stack, tenant: Tenant, tmp_path: Path) -> Iterator[Publisher]:
    running = Publisher(stack, tenant, tmp_path / "published")
    running.start()
    try:
        yield running
    finally:
        running.stop(signal.SIGKILL)


def review_ready(api: Api, tenant: Tenant) -> dict[str, dict]:
    return {c["id"]: c for c in api.listing(tenant, "content")["items"] if c["status"] == "review"}


def assert_published_once(publisher: Publisher, review: dict[str, dict]) -> None:
    ledger = publisher.ledger()
    assert len({e["event_id"] for e in ledger}) == len(ledger), "an event was published twice"
    assert sorted(e["content_id"] for e in ledger) == sorted(review), "each article exactly once"
    articles = publisher.output / "articles"
    assert sorted(p.name for p in articles.iterdir()) == sorted(review)
    for content_id, item in review.items():
        markdown = (articles / content_id / "article.md").read_text()
        assert item["title"] in markdown
        assert item["body"].strip() in markdown
        (featured,) = (articles / content_id / "images").glob("featured-*")
        assert featured.read_bytes()[:8] == PNG and f"](images/{featured.name})" in markdown
    assert not any((publisher.output / ".staging").glob("*"))


def run_to_completion(api: Api, tenant: Tenant, **config: int) -> str:
    api.configure(tenant, within_stage_delay=0, between_stage_delay=0, **config)
    run_id = api.run_now(tenant).json()["run_id"]
    assert api.wait_status(tenant, run_id, "completed", "failed", timeout=120)["status"] == "completed"
    return run_id


def test_every_review_ready_article_is_published_once(api: Api, tenant: Tenant, publisher: Publisher) -> None:
    run_to_completion(api, tenant)
    review = review_ready(api, tenant)
    publisher.wait_published(set(review))
    publisher.wait_caught_up()
    assert_published_once(publisher, review)
    print(f"\npublisher: {len(review)} review-ready articles, {len(publisher.ledger())} published")


def test_a_publisher_killed_and_restarted_mid_run_publishes_each_article_once(
    api: Api, tenant: Tenant, publisher: Publisher
) -> None:
    api.configure(tenant, within_stage_delay=0, between_stage_delay=1)
    run_id = api.run_now(tenant).json()["run_id"]
    run = api.wait_run(tenant, run_id, lambda r: r["current_stage"] >= 3 or r["status"] != "running")
    assert run["status"] == "running"
    publisher.stop(signal.SIGKILL)  # before any article: it resumes from its committed offsets
    publisher.start()
    deadline = time.monotonic() + 120
    while not publisher.ledger():  # then again in the middle of the articles
        assert time.monotonic() < deadline, "nothing published"
        time.sleep(0.01)
    publisher.stop(signal.SIGKILL)
    published_at_kill = len(publisher.ledger())
    publisher.start()

    assert api.wait_status(tenant, run_id, "completed", "failed", timeout=120)["status"] == "completed"
    review = review_ready(api, tenant)
    publisher.wait_published(set(review))
    publisher.wait_caught_up()
    assert_published_once(publisher, review)
    print(f"\npublisher: {len(review)} review-ready articles, {published_at_kill} published before the "
          f"second SIGKILL, {len(publisher.ledger())} in the end, after {publisher.starts} starts")


def test_a_replay_of_the_topic_from_the_beginning_publishes_nothing_again(
    api: Api, tenant: Tenant, publisher: Publisher
) -> None:
    run_to_completion(api, tenant)
    review = review_ready(api, tenant)
    publisher.wait_published(set(review))
    publisher.wait_caught_up()
    before = publisher.ledger()
    written = {p: p.stat().st_mtime_ns for p in (publisher.output / "articles").rglob("*")}

    publisher.stop()
    reset_to_beginning(publisher.group, publisher.topic)
    replayed = asyncio.run(group_lag(publisher.group, publisher.topic))
    assert replayed > 0
    publisher.start()
    publisher.wait_caught_up()

    assert publisher.ledger() == before
    assert {p: p.stat().st_mtime_ns for p in (publisher.output / "articles").rglob("*")} == written
    assert_published_once(publisher, review)
    print(f"\npublisher: {len(review)} review-ready articles, {len(before)} published; replayed "
          f"{replayed} events from the beginning, {len(publisher.ledger())} published after")
