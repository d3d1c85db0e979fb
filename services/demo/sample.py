"""The demo's sample tenant: how many credits, its config, and the shipped keyword list."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources

SAMPLE_CREDITS = 20_000
# Delays of 0: the demo shows the pipeline's work, not its pacing.
DEMO_CONFIG = {"within_stage_delay": 0, "between_stage_delay": 0}


@dataclass(frozen=True)
class Keyword:
    keyword: str
    volume: int | None
    difficulty: int | None
    intent: str | None


def sample_keywords(limit: int | None = None) -> list[Keyword]:
    """The shipped list (services/demo/data/sample_keywords.csv), or its first ``limit`` rows."""
    text = resources.files("services.demo").joinpath("data/sample_keywords.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))[:limit]
    return [Keyword(r["keyword"], _int(r.get("volume")), _int(r.get("difficulty")), r.get("intent") or None)
            for r in rows]


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None
