"""Every credit_ledger entry moves a positive amount: the schema refuses any other, and the
credit functions write none (a reservation of 0, its release, a debit of 0)."""

from __future__ import annotations

import uuid
from typing import Iterator

import psycopg
import pytest

from shared.infra.migrate import upgrade
from tests.support.stack import SESSION, drop_database, fresh_database, migrated_database

pytestmark = pytest.mark.integration


@pytest.fixture
def url() -> Iterator[str]:
    name = f"automation_test_ledger_{uuid.uuid4().hex[:6]}_{SESSION}"
    yield migrated_database(name)
    drop_database(name)


def _account(conn: psycopg.Connection, credits: int) -> str:
    account = f"acct-{uuid.uuid4().hex[:6]}"
    conn.execute("INSERT INTO accounts (id, name, credits) VALUES (%s, 'Acme', %s)", (account, credits))
    return account


def _amounts(conn: psycopg.Connection, account: str) -> list[tuple[str, int]]:
    return conn.execute("SELECT kind, amount FROM credit_ledger WHERE account_id = %s ORDER BY id",
                        (account,)).fetchall()


@pytest.mark.parametrize("amount", [0, -5])
def test_the_ledger_refuses_an_entry_that_moves_nothing_or_less(url: str, amount: int) -> None:
    with psycopg.connect(url) as conn:
        account = _account(conn, 10)
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO credit_ledger (entry_key, account_id, kind, amount) VALUES ('k', %s, 'topup', %s)",
                         (account, amount))


def test_a_run_that_reserved_nothing_leaves_no_entry_of_zero(url: str) -> None:
    with psycopg.connect(url) as conn:
        account = _account(conn, 10)
        conn.execute("SELECT reserve_credits(%s, 'run-empty', 0)", (account,))
        conn.execute("SELECT debit_credits(%s, 'run-empty', 1, 0, 'run-empty:batch:1')", (account,))
        conn.execute("SELECT release_reservation('run-empty')")
        assert _amounts(conn, account) == []
        assert conn.execute("SELECT credits, reserved FROM accounts WHERE id = %s", (account,)).fetchone() == (10, 0)


def test_a_run_spending_all_it_reserved_releases_nothing_and_writes_no_zero(url: str) -> None:
    with psycopg.connect(url) as conn:
        account = _account(conn, 10)
        conn.execute("SELECT reserve_credits(%s, 'run-1', 4)", (account,))
        conn.execute("SELECT debit_credits(%s, 'run-1', 1, 4, 'run-1:batch:1')", (account,))
        conn.execute("SELECT release_reservation('run-1')")
        assert _amounts(conn, account) == [("reserve", 4), ("debit", 4)]
        assert conn.execute("SELECT credits, reserved FROM accounts WHERE id = %s", (account,)).fetchone() == (6, 0)


def test_the_migration_drops_the_entries_of_zero_written_before_it() -> None:
    name = f"automation_test_ledger_{uuid.uuid4().hex[:6]}_{SESSION}"
    url = fresh_database(name)
    try:
        upgrade(url, "0004_live_stream")
        with psycopg.connect(url) as conn:
            account = _account(conn, 0)
            conn.execute("INSERT INTO credit_ledger (entry_key, account_id, kind, amount)"
                         " VALUES ('opening', %s, 'topup', 0)", (account,))
            conn.execute("SELECT reserve_credits(%s, 'run-2', 0)", (account,))
        upgrade(url)
        with psycopg.connect(url) as conn:
            assert _amounts(conn, account) == []
    finally:
        drop_database(name)
