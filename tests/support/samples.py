"""The demo's shipped keyword list, for tests that want realistic volume."""

from __future__ import annotations

import csv
from importlib import resources


def sample_keywords(limit: int | None = None) -> list[dict]:
    path = resources.files("services.demo").joinpath("data/sample_keywords.csv")
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    chosen = rows[:limit] if limit else rows
    return [
        {"keyword": r["keyword"], "volume": int(r["volume"]), "difficulty": int(r["difficulty"]), "intent": r["intent"]}
        for r in chosen
    ]
