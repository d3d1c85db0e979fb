"""The rate limit's bucket arithmetic (``domain/rate_limit.py``), on made-up arrival times."""

from __future__ import annotations

import heapq

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.pipeline.domain.rate_limit import (
    LATE_START_SECONDS, LONGEST_LEAD, Buckets, ClockOffset, Limit, ask_ahead, cool_down, settle, take, too_late,
    WakeLead,
)
from tests.support.windows import most_in_a_window

pytestmark = pytest.mark.unit

EPSILON = 1e-6
gaps = st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=200)
per_minute = st.integers(min_value=1, max_value=100_000)


def grants_for(arrivals: list[float], limit: Limit, costs: list[float] | None = None) -> list[float]:
    state, grants = Buckets(), []
    for n, now in enumerate(arrivals):
        cost = costs[n] if costs else 1.0
        state, grant = take(state, (limit, None, None), (cost, 0.0, 0.0), now)
        grants.append(grant)
    return grants


def arrivals_from(steps: list[float]) -> list[float]:
    times, now = [], 1000.0
    for gap in steps:
        now += gap
        times.append(now)
    return times


@settings(max_examples=300, deadline=None)
@given(gaps, per_minute, st.sampled_from([1.0, 2.5, 10.0]))
def test_no_window_holds_more_than_the_burst_plus_the_rate(steps, limit_per_minute, window):
    limit = Limit.per_minute(limit_per_minute)
    grants = grants_for(arrivals_from(steps), limit)
    assert most_in_a_window(grants, window) <= limit.capacity + limit.per_second * window + EPSILON


@settings(max_examples=200, deadline=None)
@given(gaps, per_minute)
def test_a_call_never_starts_before_it_asked_and_grants_keep_their_order(steps, limit_per_minute):
    arrivals = arrivals_from(steps)
    grants = grants_for(arrivals, Limit.per_minute(limit_per_minute))
    assert all(grant >= asked for grant, asked in zip(grants, arrivals))
    assert grants == sorted(grants)


@settings(max_examples=200, deadline=None)
@given(gaps, st.lists(st.integers(min_value=1, max_value=5000), min_size=200, max_size=200))
def test_tokens_in_a_window_stay_within_the_limit_plus_one_oversized_call(steps, costs):
    limit = Limit.per_minute(60_000)  # 1000 tokens a second, a burst of 200: calls cost more
    arrivals = arrivals_from(steps)
    grants = grants_for(arrivals, limit, [float(c) for c in costs])
    for start in grants:
        spent = sum(c for g, c in zip(grants, costs) if start <= g < start + 1.0)
        assert spent <= limit.capacity + limit.per_second * 1.0 + max(costs) + EPSILON


def test_an_idle_limit_lets_a_burst_through_at_once_then_paces():
    limit = Limit.per_minute(600)  # 10 a second, a burst of 2
    assert grants_for([0.0] * 4, limit) == pytest.approx([0.0, 0.0, 0.1, 0.2])


def test_unlimited_kinds_never_delay():
    state, grant = take(Buckets(), (None, None, None), (1.0, 5000.0, 1.0), now=5.0)
    assert grant == 5.0 and state.full_at == Buckets().full_at


def test_every_kind_a_call_draws_on_must_allow_it():
    limits = (Limit.per_minute(6000), Limit(per_second=100, capacity=100), None)
    state, first = take(Buckets(), limits, (1.0, 300.0, 0.0), now=0.0)
    _, second = take(state, limits, (1.0, 50.0, 0.0), now=0.0)
    assert first == 0.0  # an oversized call waits for a full bucket, then runs into debt
    assert second == pytest.approx(2.5)  # the debt of 200 repaid, then 50 more


def test_a_cool_down_holds_every_caller_and_the_burst_resumes_after_it():
    limit = Limit.per_minute(600)
    state = cool_down(Buckets(), seconds=3.0, now=10.0)
    grants = []
    for _ in range(3):
        state, grant = take(state, (limit, None, None), (1.0, 0.0, 0.0), now=10.5)
        grants.append(grant)
    assert grants == pytest.approx([13.0, 13.0, 13.1])


def test_settling_charges_what_was_used_beyond_the_estimate_or_gives_back_the_rest():
    limits = (None, Limit(per_second=100, capacity=100), None)
    state, _ = take(Buckets(), limits, (1.0, 100.0, 0.0), now=0.0)
    over = settle(state, limits, (0.0, 200.0, 0.0), now=0.0)
    _, after_over = take(over, limits, (1.0, 100.0, 0.0), now=0.0)
    under = settle(state, limits, (0.0, -100.0, 0.0), now=0.0)
    _, after_under = take(under, limits, (1.0, 100.0, 0.0), now=0.0)
    assert after_over == pytest.approx(3.0) and after_under == pytest.approx(0.0)


def starts_when_late(holdups: list[tuple[float, float]], limit: Limit, callers: int) -> list[float]:
    """``callers`` of one process take slots in turn and start on them as ``RateLimitedAI`` does;
    the n-th take's reply comes holdups[n][0] after it, and every wake-up of its caller until the
    next take comes holdups[n][1] after the instant it asked for."""
    state, starts, lead, round_trip = Buckets(), [], WakeLead(), 0.0
    back = [(1000.0, caller) for caller in range(callers)]  # when each caller takes its next slot
    for reply, lag in holdups:
        now, caller = heapq.heappop(back)
        state, slot = take(state, (limit, None, None), (1.0, 0.0, 0.0), now, ask_ahead(round_trip, lead.seconds))
        now, round_trip = now + reply, reply
        while now < slot:
            now = max(now, slot - lead.seconds) + lag
            lead = lead.after(now, lag)
        if not too_late(slot, now):
            starts.append(now)
        heapq.heappush(back, (now, caller))
    return starts


holdup = st.tuples(st.floats(min_value=0, max_value=3), st.floats(min_value=0, max_value=3))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.just((0.0, 0.0)), holdup), min_size=1, max_size=300),
       st.integers(min_value=1, max_value=32), st.sampled_from([60, 600, 6000]), st.sampled_from([1.0, 10.0]))
def test_late_replies_and_late_wake_ups_never_crowd_a_window_beyond_the_burst_and_the_rate(
        holdups, callers, limit_per_minute, window):
    limit = Limit.per_minute(limit_per_minute)
    starts = starts_when_late(holdups, limit, callers)
    bound = limit.capacity + limit.per_second * (window + LATE_START_SECONDS)
    assert most_in_a_window(starts, window) <= bound + EPSILON


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=LATE_START_SECONDS, max_value=LONGEST_LEAD), st.floats(min_value=0, max_value=0.05),
       st.integers(min_value=1, max_value=32), st.sampled_from([60, 600, 6000]))
def test_a_process_whose_every_wake_up_is_late_still_starts_calls(lag, reply, callers, limit_per_minute):
    limit = Limit.per_minute(limit_per_minute)
    starts = starts_when_late([(reply + lag, lag)] * 400, limit, callers)  # its replies come as late
    # While the process learns its round trip and its lag, a caller misses three slots at most.
    assert len(starts) >= 400 - 3 * callers
    assert most_in_a_window(starts, 10.0) <= limit.capacity + limit.per_second * (10.0 + LATE_START_SECONDS) + EPSILON


def test_a_slot_is_asked_for_as_far_ahead_as_the_last_reply_took_and_the_wake_lead():
    assert ask_ahead(round_trip=0.3, wake_lead=0.0) == pytest.approx(0.3)
    assert ask_ahead(round_trip=0.3, wake_lead=0.2) == pytest.approx(0.5)
    assert ask_ahead(round_trip=5.0, wake_lead=0.0) == LONGEST_LEAD  # a one-off hold-up
    assert ask_ahead(round_trip=5.0, wake_lead=0.95) == pytest.approx(LONGEST_LEAD + 0.95)  # a loop that late
    state, slot = take(Buckets(), (Limit.per_minute(600), None, None), (1.0, 0.0, 0.0), now=5.0, ahead=0.3)
    assert slot == pytest.approx(5.3) and state.last_grant == slot


def test_only_two_late_wake_ups_in_a_row_make_the_process_wake_early():
    half = LATE_START_SECONDS / 2  # it aims at the middle of the time a call may start in
    once = WakeLead().after(woke=10.0, lateness=0.4)
    assert once.seconds == 0.0  # one late wake-up: a stall, most likely
    twice = once.after(woke=11.0, lateness=0.3)
    assert twice.seconds == pytest.approx(0.3 - half)
    assert twice.after(woke=12.0, lateness=0.001).seconds == 0.0  # on time again: down at once
    assert twice.after(woke=12.0, lateness=0.5).seconds == pytest.approx(0.3 - half)  # the lesser of the two
    assert once.after(woke=11.0, lateness=9.0).after(woke=19.0, lateness=9.0).seconds == LONGEST_LEAD
    assert WakeLead().after(woke=10.0, lateness=0.02).after(woke=11.0, lateness=0.02).seconds == 0.0  # a usual lag


def test_sleepers_a_stall_woke_together_count_as_one_late_wake_up():
    stalled = WakeLead().after(woke=10.0, lateness=0.001)
    for n, lateness in enumerate([2.0, 1.7, 1.4, 1.1]):
        stalled = stalled.after(woke=12.0 + n * 1e-4, lateness=lateness)
    assert stalled.seconds == 0.0


def test_a_call_may_start_a_little_after_its_slot_but_no_later():
    assert not too_late(slot=10.0, now=10.0 + LATE_START_SECONDS)
    assert too_late(slot=10.0, now=10.0 + LATE_START_SECONDS + 0.001)


offsets = st.floats(min_value=-1e6, max_value=1e6)
round_trips = st.lists(st.tuples(st.floats(min_value=0, max_value=2), st.floats(min_value=0, max_value=2)),
                       min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(offsets, round_trips, st.floats(min_value=0, max_value=1e5))
def test_a_slot_is_placed_on_our_clock_never_early_and_late_by_the_best_reply_at_most(
        offset, trips, db_instant):
    # Each round trip reads the database's clock at 100 + n, ``before`` after we asked and
    # ``after`` before the reply reached us; our clock reads the database's plus ``offset``.
    clock = ClockOffset()
    for n, (before, after) in enumerate(trips):
        db_now = 100.0 + n
        clock = clock.observe(db_now + offset - before, db_now, db_now + offset + after)
    truth = db_instant + offset
    assert truth - EPSILON <= clock.ours(db_instant) <= truth + min(after for _, after in trips) + EPSILON


def test_a_slow_reply_leaves_the_clock_as_the_fast_ones_placed_it():
    clock = ClockOffset().observe(asked=10.0, db_now=5.0, received=10.002)
    assert clock.observe(asked=20.0, db_now=15.0005, received=21.5).ours(16.0) == pytest.approx(21.002)


def test_a_clock_that_stepped_is_followed_from_the_next_round_trip():
    clock = ClockOffset().observe(asked=10.0, db_now=5.0, received=10.002)
    stepped = clock.observe(asked=20.0, db_now=25.0, received=20.002)  # the database's clock jumped 10 s
    assert stepped.ours(26.0) == pytest.approx(21.002)
