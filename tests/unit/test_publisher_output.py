"""The example publisher's use case with a fake API: once per event_id, whole articles only."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from examples.publisher.output import OutputFolder
from examples.publisher.publish import Publisher

pytestmark = pytest.mark.unit
PNG = b"\x89PNG\r\n\x1a\nfake"
EVENT = {
    "event_id": "e-1", "type": "ContentReadyForReview", "run_id": "r", "site_id": "s", "account_id": "a",
    "sequence": 9, "occurred_at": "2026-12-01T00:00:00Z", "schema_version": 1,
    "data": {"content_id": "c-1", "title": "Cold Brew", "site_id": "s", "content_url": "/api/v1/sites/s/content/c-1"},
}
ARTICLE = {
    "id": "c-1", "task_id": "t", "title": "Cold Brew", "body": "# Cold Brew\n\nSteep it.\n", "word_count": 3,
    "status": "review", "idea": {"id": "i", "title": "Idea"}, "cluster": {"id": "k", "name": "cold brew"},
    "keywords": ["cold brew recipe"],
    "images": [{"id": "f", "kind": "featured", "prompt": "a jar", "status": "generated", "url": "/img/f"},
               {"id": "x", "kind": "in_article", "prompt": "ice", "status": "failed", "url": None}],
}


class FakeApi:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def article(self, content_url: str) -> dict:
        self.calls.append(content_url)
        return ARTICLE

    async def image(self, url: str) -> tuple[bytes, str]:
        self.calls.append(url)
        return PNG, "image/png"


def publish(api: FakeApi, folder: OutputFolder, event: dict = EVENT) -> Path | None:
    return asyncio.run(Publisher("a", api, folder).handle(json.dumps(event).encode()))  # type: ignore[arg-type]


def test_an_event_is_published_once_even_after_a_restart(tmp_path: Path) -> None:
    api = FakeApi()
    path = publish(api, OutputFolder(tmp_path))
    assert path == tmp_path / "articles" / "c-1"
    markdown = (path / "article.md").read_text()
    assert "](images/featured-f.png)" in markdown and "Steep it." in markdown and "cold brew recipe" in markdown
    assert (path / "images" / "featured-f.png").read_bytes() == PNG
    assert publish(api, OutputFolder(tmp_path)) is None  # a new process reads the ledger
    assert api.calls == ["/api/v1/sites/s/content/c-1", "/img/f"]
    assert len(OutputFolder(tmp_path).entries()) == 1


def test_a_line_torn_by_a_kill_does_not_count(tmp_path: Path) -> None:
    (tmp_path / "published.jsonl").write_text('{"event_id": "e-0", "content_id": "c-0"}\n{"event_id": "e-1", "con')
    folder = OutputFolder(tmp_path)
    assert folder.has("e-0") and not folder.has("e-1")
    publish(FakeApi(), folder)
    assert [e["event_id"] for e in OutputFolder(tmp_path).entries()] == ["e-0", "e-1"]


def test_an_article_left_without_its_ledger_line_is_rewritten_not_added(tmp_path: Path) -> None:
    leftover = tmp_path / "articles" / "c-1"
    leftover.mkdir(parents=True)
    (leftover / "stale.md").write_text("from a killed process")
    publish(FakeApi(), OutputFolder(tmp_path))
    assert sorted(p.name for p in leftover.iterdir()) == ["article.md", "images"]


def test_other_accounts_other_types_and_non_events_are_skipped(tmp_path: Path) -> None:
    api = FakeApi()
    for event in ({**EVENT, "account_id": "b"}, {**EVENT, "type": "ArticleTranslated"}, {"not": "an event"}):
        assert publish(api, OutputFolder(tmp_path), event) is None
    assert api.calls == [] and not OutputFolder(tmp_path).entries()
