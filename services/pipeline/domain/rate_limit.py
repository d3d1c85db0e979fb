"""The provider rate limit's arithmetic: token buckets in GCRA form, with no I/O.

A bucket of ``capacity`` refilled at ``per_second`` is one instant, ``full_at``: when it
would be full again (its level at t is capacity - per_second * max(0, full_at - t)).
A call costing c may start once every bucket it draws on holds min(c, capacity); taking
moves ``full_at`` on by c / per_second. Calls never start before the last one granted
(``last_grant``) nor during a provider's cool-down, so grants come in the order they were
asked for, and in any window of w seconds a bucket hands out at most
capacity + per_second * w (plus, once, whatever a single call's cost exceeds capacity by).

That bounds the grants; the calls themselves start a little after theirs, and only the spread
of those delays can crowd a window. A caller that wakes more than ``LATE_START_SECONDS`` after
its slot gives it up and takes another (``too_late``), so the calls starting in any window of
w seconds are at most capacity + per_second * (w + LATE_START_SECONDS): a grant whose reply came
late (a slow commit), a busy event loop or a stopped process can't release its slots together.
A process whose event loop wakes every sleeper late would then miss every slot: once two
wake-ups in a row were late, it asks to be woken that much before its slots (``WakeLead``),
so it starts on them again; the rule on starts stays the same.
Slots are instants on the database's clock; ``ClockOffset`` places them on the caller's.

``adapters/ai/rate_limit_pg.py`` runs the same rule as one UPDATE in PostgreSQL; this
module is its specification, and what the unit tests check.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

KINDS = ("requests", "tokens", "images")
# How much of a limit may go out at once: a fifth of a second's worth. A provider counts
# per minute but enforces finer, and a smaller burst keeps every 10 s window within 2 %.
BURST_SECONDS = 0.2
# How long after its slot a call may still start: another 1 % of a 10 s window, and far more
# than an event loop's usual lag, so slots are given up only after a real stall.
LATE_START_SECONDS = 0.1
# A take asks for a slot as far ahead as the last reply took (so a steadily slow round trip
# still gets calls out), up to this: a longer hold-up was a one-off, and asking further ahead
# would hold every caller back as long.
LONGEST_LEAD = 1.0


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


def take(state: Buckets, limits: Limits, costs: Costs, now: float, ahead: float = 0.0) -> tuple[Buckets, float]:
    """Reserve ``costs`` for a call starting ``ahead`` seconds from ``now`` or later; returns
    the new state and the instant the call may start."""
    start = max(now + ahead, state.last_grant, state.cool_down_until)
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


def too_late(slot: float, now: float) -> bool:
    """A call granted ``slot`` must not start at ``now``: it gives the slot up (it stays spent)."""
    return now - slot > LATE_START_SECONDS


def ask_ahead(round_trip: float, wake_lead: float) -> float:
    """How far ahead of now a take asks for its slot: as long as the last reply took (at most
    ``LONGEST_LEAD``), plus ``WakeLead.seconds``, so the reply comes in time to sleep towards it."""
    return min(max(0.0, round_trip), LONGEST_LEAD) + wake_lead


@dataclass(frozen=True)
class WakeLead:
    """How long before its slots a process asks to be woken, learnt from how late its event loop
    wakes its sleepers (``lateness``: past the instant asked for).

    It aims at the middle of the time a call may start in, so a loop that is steadily late by
    about L (L - LATE_START_SECONDS / 2 ahead) starts calls again, whatever its lag, and jitter
    of half the tolerance still lands in it. Only two late wake-ups in a row raise it, and
    wake-ups closer together than half the tolerance count as one: a stall wakes every sleeper
    late at once, and a lead learnt from that would hold the limit back after it. Any wake-up
    on time brings it down at once.
    """

    seconds: float = 0.0
    last_woke: float = float("-inf")
    last_lateness: float = 0.0

    def after(self, woke: float, lateness: float) -> "WakeLead":
        if woke - self.last_woke < LATE_START_SECONDS / 2:  # woken by the same hold-up
            return replace(self, seconds=min(self.seconds, _aimed(lateness)))
        return WakeLead(_aimed(min(lateness, self.last_lateness)), woke, lateness)


def _aimed(lateness: float) -> float:
    return min(max(0.0, lateness - LATE_START_SECONDS / 2), LONGEST_LEAD)


@dataclass(frozen=True)
class ClockOffset:
    """Our clock minus the database's, bounded by round trips rather than guessed.

    A statement read the database's clock (``db_now``) somewhere between our ``asked`` and
    ``received``, so the offset lies in [asked - db_now, received - db_now]; each round trip
    narrows the bounds, and a slow one (a commit waiting on the disk) leaves them as they were.
    Bounds that cross mean a clock stepped or drifted past them: start again from the latest.
    Slots are placed with ``high``; when a faster round trip lowers it, the slots after move
    that much earlier than those before: the bound on starts takes that on top (microseconds,
    once the first round trips are in).
    """

    low: float = float("-inf")
    high: float = float("inf")

    def observe(self, asked: float, db_now: float, received: float) -> "ClockOffset":
        low, high = max(self.low, asked - db_now), min(self.high, received - db_now)
        if low > high:
            return ClockOffset(asked - db_now, received - db_now)
        return ClockOffset(low, high)

    def ours(self, db_instant: float) -> float:
        """The latest our clock can read at ``db_instant``: a call started then is never early."""
        return db_instant + self.high
