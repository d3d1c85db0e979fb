"""The provider rate limit's arithmetic: token buckets in GCRA form, with no I/O.

A bucket of ``capacity`` refilled at ``per_second`` is one instant, ``full_at``: when it
would be full again (its level at t is capacity - per_second * max(0, full_at - t)).
A call costing c may start once every bucket it draws on holds min(c, capacity); taking
moves ``full_at`` on by c / per_second. Calls never start before the last one granted
(``last_grant``) nor during a provider's cool-down, so grants come in the order they were
asked for, and in any window of w seconds a bucket hands out at most
capacity + per_second * w (plus, once, whatever a single call's cost exceeds capacity by).

``adapters/ai/rate_limit_pg.py`` runs the same rule as one UPDATE in PostgreSQL; this
module is its specification, and what the unit tests check.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

KINDS = ("requests", "tokens", "images")
# How much of a limit may go out at once: a fifth of a second's worth. A provider counts
# per minute but enforces finer, and a smaller burst keeps every 10 s window within 2 %.
BURST_SECONDS = 0.2


@dataclass(frozen=True)
class Limit:
    per_second: float
    capacity: float

    @classmethod
    def per_minute(cls, limit: int, burst_seconds: float = BURST_SECONDS) -> "Limit":
        rate = limit / 60
        return cls(rate, max(1.0, rate * burst_seconds))


Limits = tuple["Limit | None", "Limit | None", "Limit | None"]  # by KINDS; None: unlimited
Costs = tuple[float, float, float]  # by KINDS


@dataclass(frozen=True)
class Buckets:
    """One provider's state: each kind's ``full_at``, the last grant, the cool-down's end."""

    full_at: tuple[float, float, float] = (float("-inf"),) * 3
    last_grant: float = float("-inf")
    cool_down_until: float = float("-inf")


def take(state: Buckets, limits: Limits, costs: Costs, now: float) -> tuple[Buckets, float]:
    """Reserve ``costs``; returns the new state and the instant the call may start."""
    start = max(now, state.last_grant, state.cool_down_until)
    drawn = [(n, limit, cost) for n, (limit, cost) in enumerate(zip(limits, costs)) if limit and cost > 0]
    grant = max([start] + [_ready_at(state.full_at[n], limit, cost) for n, limit, cost in drawn])
    full_at = list(state.full_at)
    for n, limit, cost in drawn:
        full_at[n] = max(full_at[n], grant) + cost / limit.per_second
    return Buckets(tuple(full_at), grant, state.cool_down_until), grant  # type: ignore[arg-type]


def settle(state: Buckets, limits: Limits, extra: Costs, now: float) -> Buckets:
    """Charge what a call used beyond its reservation (or give back what it did not use)."""
    full_at = list(state.full_at)
    for n, (limit, cost) in enumerate(zip(limits, extra)):
        if limit and cost:
            full_at[n] = max(full_at[n], now) + cost / limit.per_second
    return replace(state, full_at=tuple(full_at))  # type: ignore[arg-type]


def cool_down(state: Buckets, seconds: float, now: float) -> Buckets:
    """The provider answered 429: nobody calls it again before ``now + seconds``."""
    return replace(state, cool_down_until=max(state.cool_down_until, now + seconds))


def _ready_at(full_at: float, limit: Limit, cost: float) -> float:
    return full_at - (limit.capacity - min(cost, limit.capacity)) / limit.per_second
