"""The committed AsyncAPI document is the one FastStream generates from the wire schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.events.asyncapi import build_document

pytestmark = pytest.mark.unit
COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"


def test_committed_document_is_current() -> None:
    assert json.loads(COMMITTED.read_text()) == build_document(), (
        "regenerate it: python -m shared.events.asyncapi > docs/asyncapi.json"
    )


def test_document_declares_both_topics_and_every_command() -> None:
    document = build_document()
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {"automation.commands", "automation.events"}
    schemas = document["components"]["schemas"]
    assert {"StartRun", "PauseRun", "ResumeRun", "CancelRun", "EventEnvelope"} <= set(schemas)
    assert set(schemas["EventEnvelope"]["required"]) >= {"event_id", "type", "run_id", "sequence", "data"}
