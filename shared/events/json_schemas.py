"""JSON Schemas of every event and command, generated from the models, for consumers in
other languages. They ship in the package under ``schemas/``; a unit test keeps them current.

Regenerate: ``python -m shared.events.json_schemas`` (writes next to this file).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .commands import CancelRun, PauseRun, ResumeRun, StartRun
from .typed import EVENT_TYPES, Envelope

SCHEMA_DIR = "schemas"


def _models() -> dict[str, type[BaseModel]]:
    models: dict[str, type[BaseModel]] = {"envelope.json": Envelope}
    models |= {f"events/{name}.json": model for name, model in EVENT_TYPES.items()}
    models |= {f"commands/{m.__name__}.json": m for m in (StartRun, PauseRun, ResumeRun, CancelRun)}
    return models


def generate() -> dict[str, dict[str, Any]]:
    """Each schema by its path under ``schemas/``; validation mode: what a message must hold."""
    return {path: model.model_json_schema(mode="validation") for path, model in _models().items()}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def load(path: str) -> dict[str, Any]:
    """A shipped schema, e.g. ``load("events/ContentReadyForReview.json")``."""
    return json.loads(resources.files(__package__).joinpath(SCHEMA_DIR, path).read_text("utf-8"))


def write(root: Path | None = None) -> list[Path]:
    root = root or Path(__file__).parent / SCHEMA_DIR
    written = []
    for path, schema in generate().items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(schema), encoding="utf-8")
        written.append(target)
    return written


if __name__ == "__main__":
    for file in write():
        print(file)
