"""Credit movements on the embedded store behave as schema.sql's functions do on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from services.demo.embedded import apply_schema
from services.pipeline.adapters import planner_sqlite as sql
from services.pipeline.adapters.event_store import RunStore
from services.pipeline.domain.errors import InsufficientCredits
from services.pipeline.domain.site_slot import SiteSlot

pytestmark = pytest.mark.integration
ACCOUNT, RUN = "acct", "run-1"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    path = tmp_path / "store.sqlite3"
    apply_schema(path)
    store = RunStore.embedded(str(path))
    with store.cursor(commit=True) as cur:
        cur.execute("INSERT INTO accounts (id, name, credits) VALUES (?, 'A', 100)", (ACCOUNT,))
    yield store
    store.close()


def move(store: RunStore, *writes: tuple) -> None:
    with store.cursor(commit=True) as cur:
        for statement, params in writes:
            cur.execute(statement, params)


def balances(store: RunStore) -> tuple[int, int, int | None]:
    with store.cursor() as cur:
        cur.execute("SELECT credits, reserved FROM accounts WHERE id = ?", (ACCOUNT,))
        account = cur.fetchone()
        cur.execute("SELECT remaining FROM run_reservations WHERE run_id = ?", (RUN,))
        reservation = cur.fetchone()
    return account["credits"], account["reserved"], reservation["remaining"] if reservation else None


def test_a_debit_takes_from_the_reservation_first_then_the_free_balance(store: RunStore) -> None:
    move(store, sql.reserve(ACCOUNT, RUN, 10))
    assert balances(store) == (100, 10, 10)
    move(store, sql.debit(ACCOUNT, RUN, 1, 4, "k1"))
    assert balances(store) == (96, 6, 6)
    move(store, sql.debit(ACCOUNT, RUN, 2, 10, "k2"))  # 6 from the reservation, 4 free
    assert balances(store) == (86, 0, 0)
    move(store, sql.release(RUN))
    assert balances(store) == (86, 0, None)
    move(store, sql.release(RUN))  # nothing left to release: no ledger row, no change
    with store.cursor() as cur:
        cur.execute("SELECT kind, amount FROM credit_ledger ORDER BY id")
        assert [tuple(r) for r in cur.fetchall()] == [("reserve", 10), ("debit", 4), ("debit", 10), ("release", 0)]


def test_a_release_returns_what_is_left(store: RunStore) -> None:
    move(store, sql.reserve(ACCOUNT, RUN, 30), sql.debit(ACCOUNT, RUN, 1, 12, "k1"), sql.release(RUN))
    assert balances(store) == (88, 0, None)


def test_an_overdraw_in_a_save_is_insufficient_credits_and_nothing_commits(store: RunStore) -> None:
    move(store, sql.reserve(ACCOUNT, RUN, 90))
    slot = SiteSlot(site_id="site")
    with pytest.raises(InsufficientCredits):
        store.save_with(slot, side_writes=[sql.debit(ACCOUNT, "other-run", 1, 20, "k1")])  # only 10 are free
    assert balances(store) == (100, 90, 90)
    assert store.recorder.max_notification_id() is None


def test_a_repeated_debit_key_is_refused(store: RunStore) -> None:
    move(store, sql.debit(ACCOUNT, RUN, 1, 5, "same"))
    with pytest.raises(Exception, match="UNIQUE"):
        move(store, sql.debit(ACCOUNT, RUN, 1, 5, "same"))
    assert balances(store) == (95, 0, None)
