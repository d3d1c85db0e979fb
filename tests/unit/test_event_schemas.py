"""The events package: a typed model for every event the pipeline records, and the shipped
JSON Schemas are the ones the models generate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.pipeline.domain.run import RunEvent
from shared.events import EVENT_TYPES
from shared.events.json_schemas import SCHEMA_DIR, generate, load, render

pytestmark = pytest.mark.unit
SHIPPED = Path(__file__).parents[2] / "shared" / "events" / SCHEMA_DIR


def test_every_event_the_run_records_has_a_typed_model() -> None:
    assert {cls.__name__ for cls in RunEvent.__subclasses__()} | {"RunStarted"} == set(EVENT_TYPES)


def test_the_shipped_json_schemas_are_current() -> None:
    generated = generate()
    shipped = {str(p.relative_to(SHIPPED)): p.read_text() for p in SHIPPED.rglob("*.json")}
    assert shipped == {path: render(schema) for path, schema in generated.items()}, (
        "regenerate them: python -m shared.events.json_schemas"
    )
    assert load("events/ContentReadyForReview.json") == json.loads(shipped["events/ContentReadyForReview.json"])
