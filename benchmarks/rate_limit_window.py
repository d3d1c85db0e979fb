"""The provider rate limit held across processes: the highest request rate seen in any 10 s
window with 2 pipeline processes, 2 accounts and a limit of 600 requests/min.

The measurement itself belongs with the rate limiter: ``benchmarks/rate_limit.py``. This
calls it when it exists (the first of ENTRY_POINTS it defines, with no arguments: its
defaults are the figure's terms), and reports n/a otherwise. It returns requests per minute.
"""

from __future__ import annotations

import importlib
from typing import Any

from benchmarks.figures import Figure, Measurement, not_available
from benchmarks.session import Session

KEY = ("rate_limit.highest_10s_window", "AI rate limit 600/min, 2 processes, 2 accounts: busiest 10 s window",
       "requests/min")
LIMIT = 600  # rate_limit.py's default
ENTRY_POINTS = ("highest_rate_per_minute", "highest_window_rate", "measure")


def _entry_point() -> Any:
    try:
        module = importlib.import_module("benchmarks.rate_limit")
    except ModuleNotFoundError as error:
        if error.name != "benchmarks.rate_limit":
            raise  # the module exists but something it needs does not: a failure, not n/a
        return None
    return next((getattr(module, name) for name in ENTRY_POINTS if callable(getattr(module, name, None))), None)


def highest_window(session: Session) -> list[Figure]:
    measure = _entry_point()
    if measure is None:
        return [not_available(*KEY, "benchmarks/rate_limit.py not present on this branch")]
    session.close()  # it starts its own processes; ours would only compete for the cores
    rate = float(measure())
    return [Figure(KEY[0], KEY[1], round(rate, 1), KEY[2], 1,
                   f"{rate / LIMIT:.1%} of the {LIMIT} requests/min limit (benchmarks/rate_limit.py)")]


MEASUREMENTS = [Measurement("rate limit", highest_window, [KEY])]
