"""An account's slots of AI calls in flight, leased in PostgreSQL to its runs in any process."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from services.pipeline.adapters.account_slots import PgAccountSlots
from tests.support.stores import scratch_store

pytestmark = pytest.mark.integration
TTL = 60.0


@pytest.fixture(scope="module")
def leases():
    with scratch_store("slots") as (url, store):
        yield url, PgAccountSlots(store)


def _account(url: str, ceiling: int) -> str:
    account = str(uuid.uuid4())
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO accounts (id, name, credits, max_ai_concurrency) VALUES (%s, 'a', 0, %s)",
                     (account, ceiling))
    return account


def test_runs_of_an_account_share_its_ceiling_fairly(leases) -> None:
    url, slots = leases
    account = _account(url, 4)
    assert slots.lease(account, "run-a", 8, TTL) == 4
    assert slots.lease(account, "run-b", 8, TTL) == 0  # all taken: b waits, and is counted
    assert slots.lease(account, "run-a", 8, TTL) == 2  # a renews down to its fair share
    assert slots.lease(account, "run-b", 8, TTL) == 2
    assert slots.lease(account, "run-c", 1, TTL) == 0
    assert slots.lease(account, "run-a", 0, TTL) == 0  # a gives its lease back
    assert slots.lease(account, "run-c", 1, TTL) == 1
    assert slots.lease(account, "run-b", 8, TTL) == 3


def test_a_run_wanting_less_leaves_the_rest_to_others(leases) -> None:
    url, slots = leases
    account = _account(url, 16)
    assert slots.lease(account, "small", 2, TTL) == 2
    assert slots.lease(account, "large", 16, TTL) == 14


def test_the_lease_of_a_process_that_died_lapses(leases) -> None:
    url, slots = leases
    account = _account(url, 3)
    assert slots.lease(account, "dead", 3, 0.0) == 3  # never renewed: lapsed at once
    assert slots.lease(account, "alive", 3, TTL) == 3


def test_a_lower_ceiling_applies_on_the_next_renewal(leases) -> None:
    url, slots = leases
    account = _account(url, 8)
    assert slots.lease(account, "run", 8, TTL) == 8
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE accounts SET max_ai_concurrency = 2 WHERE id = %s", (account,))
    assert slots.lease(account, "run", 8, TTL) == 2
