"""How many timestamps fall in the busiest window of a given length."""

from __future__ import annotations

from collections.abc import Iterable


def most_in_a_window(times: Iterable[float], seconds: float) -> int:
    """The largest count in any half-open window [t, t + seconds); windows start at a timestamp."""
    ordered, most, first = sorted(times), 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - seconds:
            first += 1
        most = max(most, last - first + 1)
    return most
