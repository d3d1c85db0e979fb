"""The rate limit's bucket arithmetic (``domain/rate_limit.py``), on made-up arrival times."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.pipeline.domain.rate_limit import Buckets, Limit, cool_down, settle, take
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
