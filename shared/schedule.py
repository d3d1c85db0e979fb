"""The schedule rule: when a site's scheduled run is due (CONTRACT §3.3 Config: ``frequency``,
``scheduled_time``), for the scheduler that fires it and the API that shows ``next_run_at``.

Pure calendar arithmetic in UTC; no clock, no I/O. The caller passes ``now``.

Slots
-----
A *slot* is one instant at which a scheduled run should start:

=========  ===========================================
frequency  slots
=========  ===========================================
daily      every day at HH:MM UTC
weekly     every Monday at HH:MM UTC
monthly    the 1st of every month at HH:MM UTC
=========  ===========================================

Every frequency has a slot in every month, so a latest slot at or before any instant
always exists, and so does a first slot after it.

Catch-up policy
---------------
A slot is fired at most once, and only within ``window`` after its start. A scheduler
that was down across one or more slots fires neither those nor a burst of them when it
comes back: it waits for the next slot. Firing stale slots would start runs the user did
not expect at that hour (and debit credits for it), which is worse than skipping one run.
The window still absorbs ordinary tick jitter and short restarts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final, Literal, get_args

Frequency = Literal["daily", "weekly", "monthly"]
FREQUENCIES: Final[tuple[str, ...]] = get_args(Frequency)

# Exactly two ASCII digits each side; `\d` would also accept non-ASCII digits.
_HH_MM: Final = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")

_MONDAY: Final = 0
_ONE_DAY: Final = timedelta(days=1)
_ONE_WEEK: Final = timedelta(days=7)


# How late a slot may still start (the catch-up policy above): long enough to ride out a
# restart or a broker hiccup, short enough that a run never starts hours after the time
# the user chose.
FIRE_WINDOW = timedelta(hours=1)


def parse_scheduled_time(text: str) -> time:
    """``"HH:MM"`` (24-hour, zero-padded) → a UTC ``time``; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"scheduled_time must be a string 'HH:MM', got {text!r}")
    match = _HH_MM.fullmatch(text)
    if match is None:
        raise ValueError(f"scheduled_time must be 'HH:MM' between 00:00 and 23:59, got {text!r}")
    return time(int(match[1]), int(match[2]), tzinfo=UTC)


@dataclass(frozen=True)
class ScheduleSpec:
    """A site's schedule: how often, and at what UTC time of day."""

    frequency: Frequency
    scheduled_time: str

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise ValueError(f"frequency must be one of {FREQUENCIES}, got {self.frequency!r}")
        parse_scheduled_time(self.scheduled_time)

    @property
    def time_of_day(self) -> time:
        return parse_scheduled_time(self.scheduled_time)


def latest_slot_at_or_before(spec: ScheduleSpec, now: datetime) -> datetime:
    """The start of the most recent slot ``<= now`` (UTC)."""
    now = _as_utc(now)
    candidate = _first_slot_of_period(spec, now)
    if candidate <= now:
        return candidate
    return _shift_periods(spec, candidate, -1)


def next_slot_after(spec: ScheduleSpec, now: datetime) -> datetime:
    """The first slot strictly after ``now`` (UTC): the site's ``next_run_at``."""
    now = _as_utc(now)
    candidate = _first_slot_of_period(spec, now)
    if candidate > now:
        return candidate
    return _shift_periods(spec, candidate, +1)


def slot_to_fire(
    spec: ScheduleSpec,
    now: datetime,
    last_slot_taken: datetime | None,
    window: timedelta,
    not_before: datetime | None = None,
) -> datetime | None:
    """The slot to start a run for now, or None (see the module's catch-up policy).

    The latest slot ``<= now`` is due if no slot of its period (day, ISO week, month) was
    taken yet and at most ``window`` has passed since it began. The returned
    slot is a natural idempotency key for the StartRun command it triggers.
    """
    if window < timedelta(0):
        raise ValueError(f"window must not be negative, got {window!r}")
    now = _as_utc(now)
    slot = latest_slot_at_or_before(spec, now)
    # One scheduled run per day / week / month: a slot taken earlier in the same period
    # (before the time was moved later) counts, so moving the time never adds a run.
    already_taken = last_slot_taken is not None and (
        _as_utc(last_slot_taken) >= slot
        or _first_slot_of_period(spec, _as_utc(last_slot_taken)) == _first_slot_of_period(spec, slot)
    )
    too_late = now - slot > window
    # A slot that began before the schedule was set (or changed) was never promised.
    before_schedule = not_before is not None and slot < _as_utc(not_before)
    if already_taken or too_late or before_schedule:
        return None
    return slot


def upcoming_slot(
    spec: ScheduleSpec,
    now: datetime,
    last_slot_taken: datetime | None,
    window: timedelta,
    not_before: datetime | None = None,
) -> datetime:
    """When the site's next scheduled run starts (its ``next_run_at``): the slot due now if
    it has not fired yet, else the first later slot whose period has none taken."""
    due = slot_to_fire(spec, now, last_slot_taken, window, not_before)
    if due is not None:
        return due
    candidate = next_slot_after(spec, now)
    if last_slot_taken is not None and _first_slot_of_period(spec, _as_utc(last_slot_taken)) == (
        _first_slot_of_period(spec, candidate)
    ):
        candidate = next_slot_after(spec, candidate)
    return candidate


def next_run_at(
    is_enabled: bool,
    spec: ScheduleSpec,
    now: datetime,
    last_slot_taken: datetime | None,
    changed_at: datetime | None,
) -> datetime | None:
    """A site's ``next_run_at`` (CONTRACT §3.3 Config): derived whenever it is read, never
    stored, so the scheduler and the config can't disagree about it. None while disabled."""
    if not is_enabled:
        return None
    return upcoming_slot(spec, now, last_slot_taken, FIRE_WINDOW, changed_at)


def is_due(
    spec: ScheduleSpec,
    now: datetime,
    last_slot_taken: datetime | None,
    window: timedelta,
) -> bool:
    """Whether a scheduled run should start now (see ``slot_to_fire``)."""
    return slot_to_fire(spec, now, last_slot_taken, window) is not None


def _as_utc(moment: datetime) -> datetime:
    # A naive datetime is ambiguous; guessing its zone would shift every slot silently.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"datetime must be timezone-aware, got naive {moment!r}")
    return moment.astimezone(UTC)


def _first_slot_of_period(spec: ScheduleSpec, now: datetime) -> datetime:
    """The slot of the day / ISO week / month that contains ``now`` (may be after it)."""
    at_time = now.replace(
        hour=spec.time_of_day.hour, minute=spec.time_of_day.minute, second=0, microsecond=0
    )
    if spec.frequency == "daily":
        return at_time
    if spec.frequency == "weekly":
        return at_time - timedelta(days=at_time.weekday() - _MONDAY)
    return at_time.replace(day=1)


def _shift_periods(spec: ScheduleSpec, slot: datetime, periods: int) -> datetime:
    """The slot ``periods`` days / weeks / months away from ``slot``."""
    if spec.frequency == "daily":
        return slot + periods * _ONE_DAY
    if spec.frequency == "weekly":
        return slot + periods * _ONE_WEEK
    return _add_months_to_first(slot, periods)


def _add_months_to_first(first_of_month: datetime, months: int) -> datetime:
    # Only ever called on the 1st, so the day always exists in the target month.
    month_index = first_of_month.year * 12 + (first_of_month.month - 1) + months
    year, month_zero_based = divmod(month_index, 12)
    return first_of_month.replace(year=year, month=month_zero_based + 1)
