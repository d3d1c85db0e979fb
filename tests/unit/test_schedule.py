"""Unit tests of shared/schedule.py, the schedule rule."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.schedule import (
    FREQUENCIES,
    ScheduleSpec,
    is_due,
    latest_slot_at_or_before,
    next_slot_after,
    parse_scheduled_time,
    slot_to_fire,
    upcoming_slot,
)

pytestmark = pytest.mark.unit

TINY = timedelta(microseconds=1)
WINDOW = timedelta(minutes=30)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- strategies -----------------------------------------------------------------------

scheduled_times = st.builds(
    lambda hour, minute: f"{hour:02d}:{minute:02d}",
    st.integers(0, 23),
    st.integers(0, 59),
)
specs = st.builds(ScheduleSpec, st.sampled_from(FREQUENCIES), scheduled_times)
# Years far enough from datetime.min/max that a month either side exists.
instants = st.datetimes(
    min_value=datetime(1901, 1, 1), max_value=datetime(2399, 12, 31), timezones=st.just(UTC)
)
offsets = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


# --- parse_scheduled_time / ScheduleSpec ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("00:00", time(0, 0)), ("07:05", time(7, 5)), ("23:59", time(23, 59)), ("12:30", time(12, 30))],
)
def test_parse_scheduled_time_accepts_zero_padded_24_hour(text: str, expected: time) -> None:
    parsed = parse_scheduled_time(text)
    assert (parsed.hour, parsed.minute) == (expected.hour, expected.minute)
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "24:00", "23:60", "7:5", "07:5", "7:05", "aa", "", "aa:bb", "07:05:00", " 07:05",
        "07:05 ", "07:05\n", "0705", "07-05", "-1:00", "٠٧:٠٥",  # Arabic-Indic digits
    ],
)
def test_parse_scheduled_time_rejects_anything_else(text: str) -> None:
    with pytest.raises(ValueError):
        parse_scheduled_time(text)


@pytest.mark.parametrize("value", [None, 705, time(7, 5)])
def test_parse_scheduled_time_rejects_non_strings(value: object) -> None:
    with pytest.raises(ValueError):
        parse_scheduled_time(value)  # type: ignore[arg-type]


@given(st.integers(0, 23), st.integers(0, 59))
def test_parse_scheduled_time_round_trips(hour: int, minute: int) -> None:
    parsed = parse_scheduled_time(f"{hour:02d}:{minute:02d}")
    assert (parsed.hour, parsed.minute) == (hour, minute)


def test_schedule_spec_validates_its_fields() -> None:
    with pytest.raises(ValueError):
        ScheduleSpec("hourly", "02:00")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ScheduleSpec("daily", "24:00")
    assert ScheduleSpec("weekly", "02:15").time_of_day.minute == 15


def test_naive_datetimes_are_refused() -> None:
    spec = ScheduleSpec("daily", "02:00")
    with pytest.raises(ValueError):
        latest_slot_at_or_before(spec, datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        next_slot_after(spec, datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        is_due(spec, utc(2024, 1, 1, 2), datetime(2024, 1, 1), WINDOW)


# --- examples ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "now", "latest", "following"),
    [
        # daily: before, exactly at, and after the time of day
        ("daily", utc(2024, 3, 10, 1, 59), utc(2024, 3, 9, 2, 0), utc(2024, 3, 10, 2, 0)),
        ("daily", utc(2024, 3, 10, 2, 0), utc(2024, 3, 10, 2, 0), utc(2024, 3, 11, 2, 0)),
        ("daily", utc(2024, 3, 10, 2, 0, 1), utc(2024, 3, 10, 2, 0), utc(2024, 3, 11, 2, 0)),
        # daily across a year end
        ("daily", utc(2024, 1, 1, 0, 0), utc(2023, 12, 31, 2, 0), utc(2024, 1, 1, 2, 0)),
        # weekly: 2024-03-11 is a Monday
        ("weekly", utc(2024, 3, 11, 1, 0), utc(2024, 3, 4, 2, 0), utc(2024, 3, 11, 2, 0)),
        ("weekly", utc(2024, 3, 11, 2, 0), utc(2024, 3, 11, 2, 0), utc(2024, 3, 18, 2, 0)),
        ("weekly", utc(2024, 3, 17, 23, 59), utc(2024, 3, 11, 2, 0), utc(2024, 3, 18, 2, 0)),
        # weekly across a year end: 2024-12-30 is a Monday
        ("weekly", utc(2025, 1, 2, 12, 0), utc(2024, 12, 30, 2, 0), utc(2025, 1, 6, 2, 0)),
        # monthly: before the slot on the 1st goes back a month, also across years
        ("monthly", utc(2024, 3, 1, 1, 0), utc(2024, 2, 1, 2, 0), utc(2024, 3, 1, 2, 0)),
        ("monthly", utc(2024, 1, 1, 1, 0), utc(2023, 12, 1, 2, 0), utc(2024, 1, 1, 2, 0)),
        ("monthly", utc(2024, 12, 31, 23, 59), utc(2024, 12, 1, 2, 0), utc(2025, 1, 1, 2, 0)),
        # month ends and a leap day
        ("monthly", utc(2024, 2, 29, 12, 0), utc(2024, 2, 1, 2, 0), utc(2024, 3, 1, 2, 0)),
        ("monthly", utc(2023, 1, 31, 12, 0), utc(2023, 1, 1, 2, 0), utc(2023, 2, 1, 2, 0)),
        ("daily", utc(2024, 2, 29, 3, 0), utc(2024, 2, 29, 2, 0), utc(2024, 3, 1, 2, 0)),
        ("daily", utc(2023, 2, 28, 3, 0), utc(2023, 2, 28, 2, 0), utc(2023, 3, 1, 2, 0)),
    ],
)
def test_slots_around_examples(
    frequency: str, now: datetime, latest: datetime, following: datetime
) -> None:
    spec = ScheduleSpec(frequency, "02:00")  # type: ignore[arg-type]
    assert latest_slot_at_or_before(spec, now) == latest
    assert next_slot_after(spec, now) == following


def test_other_time_zones_are_converted_to_utc() -> None:
    spec = ScheduleSpec("daily", "02:00")
    # 2024-03-10 03:30 at UTC+2 is 01:30 UTC: the 02:00 UTC slot of that day is still ahead.
    now = datetime(2024, 3, 10, 3, 30, tzinfo=timezone(timedelta(hours=2)))
    assert next_slot_after(spec, now) == utc(2024, 3, 10, 2, 0)
    assert latest_slot_at_or_before(spec, now) == utc(2024, 3, 9, 2, 0)
    assert next_slot_after(spec, now).tzinfo is UTC


# --- is_due / slot_to_fire ----------------------------------------------------------------


def test_due_at_the_slot_and_within_the_window() -> None:
    spec = ScheduleSpec("daily", "02:00")
    slot = utc(2024, 3, 10, 2, 0)
    assert slot_to_fire(spec, slot, None, WINDOW) == slot
    assert is_due(spec, slot + WINDOW, None, WINDOW)
    assert is_due(spec, slot + WINDOW, utc(2024, 3, 9, 2, 0), WINDOW)


def test_not_due_once_taken() -> None:
    spec = ScheduleSpec("daily", "02:00")
    slot = utc(2024, 3, 10, 2, 0)
    assert not is_due(spec, slot + timedelta(minutes=1), slot, WINDOW)
    # A later mark also covers it (e.g. a clock that moved back).
    assert not is_due(spec, slot + timedelta(minutes=1), slot + timedelta(days=1), WINDOW)


def test_stale_slots_are_skipped_after_downtime() -> None:
    spec = ScheduleSpec("daily", "02:00")
    # Down since three days ago: the latest slot is 6 hours old, past the window.
    now = utc(2024, 3, 10, 8, 0)
    assert not is_due(spec, now, utc(2024, 3, 7, 2, 0), WINDOW)
    assert slot_to_fire(spec, now, None, WINDOW) is None
    # ...and the next slot fires normally.
    assert is_due(spec, utc(2024, 3, 11, 2, 0, 5), utc(2024, 3, 7, 2, 0), WINDOW)


def test_zero_window_fires_only_exactly_at_the_slot() -> None:
    spec = ScheduleSpec("daily", "02:00")
    assert is_due(spec, utc(2024, 3, 10, 2, 0), None, timedelta(0))
    assert not is_due(spec, utc(2024, 3, 10, 2, 0) + TINY, None, timedelta(0))


def test_negative_window_is_refused() -> None:
    with pytest.raises(ValueError):
        is_due(ScheduleSpec("daily", "02:00"), utc(2024, 3, 10), None, -TINY)


# --- properties ----------------------------------------------------------------------------


@given(specs, instants)
def test_now_lies_between_latest_and_next_slot(spec: ScheduleSpec, now: datetime) -> None:
    latest = latest_slot_at_or_before(spec, now)
    following = next_slot_after(spec, now)
    assert latest <= now < following


@given(specs, instants)
def test_latest_slot_is_the_next_slot_after_just_before_it(spec: ScheduleSpec, now: datetime) -> None:
    latest = latest_slot_at_or_before(spec, now)
    assert next_slot_after(spec, latest - TINY) == latest
    assert latest_slot_at_or_before(spec, latest) == latest


@given(specs, instants)
def test_consecutive_slots_have_no_slot_between_them(spec: ScheduleSpec, now: datetime) -> None:
    following = next_slot_after(spec, now)
    assert latest_slot_at_or_before(spec, following - TINY) == latest_slot_at_or_before(spec, now)
    assert next_slot_after(spec, following) > following


@given(specs, instants)
def test_slots_sit_on_the_right_weekday_day_and_time(spec: ScheduleSpec, now: datetime) -> None:
    for slot in (latest_slot_at_or_before(spec, now), next_slot_after(spec, now)):
        assert slot.tzinfo is UTC
        assert (slot.hour, slot.minute, slot.second, slot.microsecond) == (
            spec.time_of_day.hour,
            spec.time_of_day.minute,
            0,
            0,
        )
        if spec.frequency == "weekly":
            assert slot.weekday() == 0  # Monday
        if spec.frequency == "monthly":
            assert slot.day == 1


@given(specs, instants)
def test_gap_between_slots_matches_the_frequency(spec: ScheduleSpec, now: datetime) -> None:
    gap = next_slot_after(spec, now) - latest_slot_at_or_before(spec, now)
    expected = {
        "daily": {timedelta(days=1)},
        "weekly": {timedelta(days=7)},
        "monthly": {timedelta(days=d) for d in (28, 29, 30, 31)},
    }[spec.frequency]
    assert gap in expected


@given(specs, instants, offsets)
def test_the_zone_of_now_does_not_matter(spec: ScheduleSpec, now: datetime, zone: timezone) -> None:
    elsewhere = now.astimezone(zone)
    assert latest_slot_at_or_before(spec, elsewhere) == latest_slot_at_or_before(spec, now)
    assert next_slot_after(spec, elsewhere) == next_slot_after(spec, now)


@given(specs, instants, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)))
def test_due_exactly_when_untaken_and_within_window(
    spec: ScheduleSpec, now: datetime, window: timedelta
) -> None:
    slot = latest_slot_at_or_before(spec, now)
    assert is_due(spec, now, None, window) == (now - slot <= window)
    previous = latest_slot_at_or_before(spec, slot - TINY)
    assert is_due(spec, now, previous, window) == (now - slot <= window)
    assert not is_due(spec, now, slot, window)


@given(specs, instants, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)))
def test_firing_a_slot_makes_it_not_due_until_the_next_one(
    spec: ScheduleSpec, now: datetime, window: timedelta
) -> None:
    fired = slot_to_fire(spec, now, None, window)
    if fired is None:
        return
    following = next_slot_after(spec, now)
    if now + TINY < following:
        assert slot_to_fire(spec, now + TINY, fired, window) is None
    assert slot_to_fire(spec, following, fired, window) == following


def test_moving_the_time_later_in_a_period_that_already_ran_adds_no_run() -> None:
    ran_at_ten = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
    moved = ScheduleSpec("daily", "10:15")
    assert slot_to_fire(moved, datetime(2026, 3, 10, 10, 20, tzinfo=UTC), ran_at_ten, timedelta(hours=1)) is None
    tomorrow = slot_to_fire(moved, datetime(2026, 3, 11, 10, 16, tzinfo=UTC), ran_at_ten, timedelta(hours=1))
    assert tomorrow == datetime(2026, 3, 11, 10, 15, tzinfo=UTC)
    weekly = ScheduleSpec("weekly", "11:00")  # 2026-03-09 is a Monday
    assert slot_to_fire(weekly, datetime(2026, 3, 9, 11, 5, tzinfo=UTC),
                        datetime(2026, 3, 9, 9, 0, tzinfo=UTC), timedelta(hours=1)) is None


def test_upcoming_slot_is_the_due_one_until_it_fires_then_the_next_free_period() -> None:
    daily = ScheduleSpec("daily", "10:00")
    now = datetime(2026, 3, 10, 10, 0, 30, tzinfo=UTC)
    today, tomorrow = datetime(2026, 3, 10, 10, 0, tzinfo=UTC), datetime(2026, 3, 11, 10, 0, tzinfo=UTC)
    assert upcoming_slot(daily, now, None, timedelta(hours=1)) == today
    assert upcoming_slot(daily, now, today, timedelta(hours=1)) == tomorrow
    moved = ScheduleSpec("daily", "11:00")  # moved later after today's run: not today again
    assert upcoming_slot(moved, now, today, timedelta(hours=1)) == datetime(2026, 3, 11, 11, 0, tzinfo=UTC)


@given(specs, instants, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)))
def test_upcoming_slot_is_never_in_a_period_already_taken(spec: ScheduleSpec, now: datetime, window: timedelta) -> None:
    taken = latest_slot_at_or_before(spec, now)
    upcoming = upcoming_slot(spec, now, taken, window)
    assert upcoming > now and latest_slot_at_or_before(spec, upcoming - TINY) >= taken
    assert slot_to_fire(spec, upcoming, taken, window) == upcoming


def test_a_slot_that_began_before_the_schedule_was_set_is_not_due() -> None:
    daily = ScheduleSpec("daily", "00:00")
    set_at = datetime(2026, 3, 10, 0, 30, tzinfo=UTC)
    now = datetime(2026, 3, 10, 0, 31, tzinfo=UTC)
    assert slot_to_fire(daily, now, None, timedelta(hours=1), set_at) is None
    assert slot_to_fire(daily, now, None, timedelta(hours=1)) == datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
    assert upcoming_slot(daily, now, None, timedelta(hours=1), set_at) == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)
