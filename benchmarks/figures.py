"""What a benchmark reports: figures with their unit, repetitions and the machine's cores."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

CORES = os.cpu_count() or 1


@dataclass
class Figure:
    key: str  # stable name in latest.json, e.g. "pipeline.items_per_s.1_site"
    name: str  # what the table shows
    value: float | str  # a number, or a sentence saying why there is none ("n/a (...)", "failed: ...")
    unit: str
    repetitions: int  # how many measurements the value summarises
    note: str = ""
    cores: int = CORES
    extra: dict[str, Any] = field(default_factory=dict)  # raw numbers behind the value

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Measurement:
    """One thing the runner measures in its own try; ``keys`` name the figures it should
    produce, so that a failure still shows one row per missing figure."""

    title: str
    run: Callable[[Any], list[Figure]]
    keys: Sequence[tuple[str, str, str]]  # (key, name, unit)


def failed(key: str, name: str, unit: str, reason: str) -> Figure:
    return Figure(key, name, f"failed: {reason}", unit, 0)


def not_available(key: str, name: str, unit: str, reason: str) -> Figure:
    return Figure(key, name, f"n/a ({reason})", unit, 0)


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile: a value that was actually measured, never interpolated."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_figures(key: str, name: str, seconds: Sequence[float], note: str = "",
                    extra: dict[str, Any] | None = None) -> list[Figure]:
    """p50 and p99 in milliseconds of ``seconds``."""
    return [
        Figure(f"{key}.p{p}", f"{name}, p{p}", round(percentile(seconds, p) * 1000, 1), "ms", len(seconds),
               note, extra=extra or {})
        for p in (50, 99)
    ]
