"""Events stored with today's schema version read through the current code (docs/EVENTS.md).

tests/fixtures/events_schema_v1.jsonl is what automation.events carried for two real runs
(one paused, resumed, with a failed item; one cancelled) before ContentReadyForReview
gained site_id and content_url: the additive change must not break them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.run_view import evolve
from shared.events import EVENT_TYPES, ContentReadyForReview, Envelope, content_path, parse_event
from shared.events import upcasting
from shared.events.hashchain import ChainedRunEvent, verify_chain

pytestmark = pytest.mark.unit
STORED = Path(__file__).parents[1] / "fixtures" / "events_schema_v1.jsonl"


def stored() -> list[dict]:
    return [json.loads(line) for line in STORED.read_text().splitlines()]


def test_every_stored_event_reads_as_its_typed_model_and_loses_nothing() -> None:
    for raw in stored():
        event = parse_event(json.dumps(raw).encode())
        assert type(event) is EVENT_TYPES[raw["type"]]
        assert event.model_dump(mode="json", exclude_unset=True) == raw


def test_the_stored_runs_still_verify_and_project_through_the_typed_models() -> None:
    runs: dict[str, list] = {}
    for raw in stored():
        runs.setdefault(raw["run_id"], []).append(parse_event(raw).model_dump(mode="json", exclude_unset=True))
    statuses = []
    for events in runs.values():
        events.sort(key=lambda e: e["sequence"])
        chain = [ChainedRunEvent(**{k: e[k] for k in ("run_id", "sequence", "type", "occurred_at", "data",
                                                          "hash", "prev_hash")}) for e in events]
        assert verify_chain(chain) is None
        view = None
        for event in events:
            view = evolve(view, event)
        statuses.append(view["status"])
    assert sorted(statuses) == ["cancelled", "completed"]


def test_an_event_from_before_content_url_still_tells_where_the_content_is() -> None:
    (old, *_) = [parse_event(r) for r in stored() if r["type"] == "ContentReadyForReview"]
    assert isinstance(old, ContentReadyForReview)
    assert old.data.content_url is None and old.data.site_id is None
    assert content_path(old.site_id, old.data.content_id).endswith(f"/content/{old.data.content_id}")


def test_an_unknown_type_or_a_newer_version_comes_back_as_the_generic_envelope() -> None:
    raw = stored()[0]
    for changed in ({"type": "ArticleTranslated", "data": {"lang": "fr"}}, {"schema_version": 2}):
        event = parse_event({**raw, **changed})
        assert type(event) is Envelope and event.data == {**raw, **changed}["data"]


def test_a_breaking_change_is_read_through_its_upcaster(monkeypatch: pytest.MonkeyPatch) -> None:
    # As if ContentReadyForReview had had a version 0 calling the title "headline".
    raw = next(r for r in stored() if r["type"] == "ContentReadyForReview")
    old = {**raw, "schema_version": 0, "data": {"content_id": raw["data"]["content_id"],
                                                "headline": raw["data"]["title"]}}

    def v0_to_v1(event: dict) -> dict:
        data = {k: v for k, v in event["data"].items() if k != "headline"}
        return {**event, "schema_version": 1, "data": {**data, "title": event["data"]["headline"]}}

    monkeypatch.setitem(upcasting.UPCASTERS, ("ContentReadyForReview", 0), v0_to_v1)
    event = parse_event(old)
    assert isinstance(event, ContentReadyForReview) and event.data.title == raw["data"]["title"]
