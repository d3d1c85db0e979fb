"""A save appends its events in one statement (``append_automation_events``, migration 0012)
after its side writes, all committed at one Sync or none of them: the library's rows and
notification ids, the run heads moved after the events, optimistic concurrency whether the
stale save comes after the winner or beside it, the NOTIFY the relay waits for, and the
statement kept prepared."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from services.pipeline.adapters.event_store import RunStore
from services.pipeline.domain.run import AutomationRun
from services.pipeline.domain.site_slot import SiteSlot
from tests.support.stores import scratch_store

pytestmark = pytest.mark.integration
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def scratch():
    with scratch_store("append") as (url, store):
        yield url, store


@pytest.fixture
def store(scratch) -> RunStore:
    return scratch[1]


@pytest.fixture
def url(scratch) -> str:
    return scratch[0]


def _run(stages: int = 0) -> AutomationRun:
    run = AutomationRun.start(run_id=str(uuid.uuid4()), site_id="site", account_id="account",
                              trigger_type="manual", config={}, reserved_credits=0, estimated_credits=0, now=NOW)
    for _ in range(stages):
        run.start_batch(1, [], f"w/{uuid.uuid4()}", NOW) if run.stage_results else run.start_stage(1, 9, NOW)
    return run


def _probe(name: str) -> tuple[str, tuple[Any, ...]]:
    """A side write whose row shows whether the save committed."""
    return "INSERT INTO outbox_position (name, position) VALUES (%s, 0)", (name,)


def _probed(store: RunStore, name: str) -> bool:
    with store.statements() as cur:
        cur.execute("SELECT count(*) AS n FROM outbox_position WHERE name = %s", (name,))
        return cur.fetchone()["n"] == 1


def _stored(store: RunStore, aggregate_id: uuid.UUID) -> list[tuple[int, int, str]]:
    """(version, notification id, hash in the stored state) of each stored event, in order."""
    with store.statements() as cur:
        cur.execute("SELECT originator_version AS v, notification_id AS n, state FROM automation_events"
                    " WHERE originator_id = %s ORDER BY originator_version", (aggregate_id,))
        return [(row["v"], row["n"], json.loads(bytes(row["state"])).get("hash")) for row in cur.fetchall()]


def _head(store: RunStore, run_id: uuid.UUID) -> tuple[int, str] | None:
    with store.statements() as cur:
        cur.execute("SELECT sequence, hash FROM audit_run_heads WHERE run_id = %s", (run_id,))
        row = cur.fetchone()
    return None if row is None else (row["sequence"], row["hash"])


def test_a_save_returns_the_ids_of_the_rows_it_stored_and_moves_only_the_runs_heads(store) -> None:
    slot, first, second = SiteSlot(f"site-{uuid.uuid4()}"), _run(stages=3), _run(stages=2)
    slot.admit(first.run_id)
    probe = f"probe-{uuid.uuid4()}"
    recordings = store.save(slot, first, second, side_writes=[_probe(probe)])

    stored = {aggregate.id: _stored(store, aggregate.id) for aggregate in (slot, first, second)}
    assert [(r.notification.originator_id, r.notification.originator_version, r.notification.id) for r in recordings] \
        == [(aggregate_id, version, notification_id)
            for aggregate_id, rows in stored.items() for version, notification_id, _ in rows]
    ids = [recording.notification.id for recording in recordings]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for run in (first, second):
        assert _head(store, run.id) == (run.version, run.last_hash) == stored[run.id][-1][::2]
    assert _head(store, slot.id) is None  # a slot is no run
    assert _probed(store, probe)
    # Read back as the library reads them: the aggregates and the notification log.
    assert store.get(first.id).last_hash == first.last_hash
    assert store.get(slot.id).active_run_id == first.run_id
    logged = store.notification_log.select(ids[0], len(ids))
    assert [n.id for n in logged] == ids
    assert [type(store.mapper.to_domain_event(n)).__name__ for n in logged][1:3] == ["RunAdmitted", "RunStarted"]


def test_a_head_is_moved_whatever_text_its_event_carries(store) -> None:
    """A NUL escaped in the event's JSON (``\\u0000``) is refused by PostgreSQL's JSON types,
    so the head's hash is not read from the state in SQL."""
    run = _run(stages=1)
    run.fail("provider said \x00\x01 and stopped", NOW)
    store.save_with(run)
    assert _head(store, run.id) == (3, run.last_hash)
    assert store.get(run.id).error_message.startswith("provider said \x00")


def test_a_stale_save_fails_on_the_events_key_and_leaves_nothing(store) -> None:
    run = _run()
    store.save(run)
    stale = store.get(run.id)
    winner = store.get(run.id)
    for _ in range(3):
        winner.start_stage(1, 5, NOW) if not winner.stage_results else winner.start_batch(1, [], "w/b", NOW)
    store.save_with(winner)
    # The stale head (2) is behind the stored one (4): upserted before the events, the head's
    # forward-only trigger would refuse it first, with another error than the conflict's.
    stale.start_stage(1, 3, NOW)
    probe = f"probe-{uuid.uuid4()}"
    with pytest.raises(IntegrityError, match="automation_events_pkey"):
        store.save_with(stale, side_writes=[_probe(probe)])
    assert not _probed(store, probe)
    assert [version for version, _, _ in _stored(store, run.id)] == [1, 2, 3, 4]
    assert _head(store, run.id) == (4, winner.last_hash)


def test_a_stale_save_ahead_of_the_winner_fails_too_and_moves_no_head(store) -> None:
    run = _run()
    store.save(run)
    stale = store.get(run.id)
    winner = store.get(run.id)
    winner.start_stage(1, 5, NOW)
    store.save_with(winner)
    stale.start_stage(1, 3, NOW)
    stale.start_batch(1, [], "w/b", NOW)
    stale.start_batch(1, [], "w/c", NOW)  # its head (4) would move forward
    with pytest.raises(IntegrityError):
        store.save_with(stale)
    assert _head(store, run.id) == (2, winner.last_hash)
    assert store.get(run.id).version == 2


def test_saves_racing_for_one_run_leave_exactly_one_winner_each_time(store) -> None:
    rounds, racers = 10, 3
    for _ in range(rounds):
        run = _run()
        store.save(run)
        copies = [store.get(run.id) for _ in range(racers)]
        probes = [f"probe-{uuid.uuid4()}" for _ in range(racers)]
        start = threading.Barrier(racers)
        outcomes: list[Any] = [None] * racers

        def race(n: int) -> None:
            copies[n].start_stage(1, n + 1, NOW)
            start.wait(timeout=30)
            try:
                store.save_with(copies[n], side_writes=[_probe(probes[n])])
                outcomes[n] = "saved"
            except Exception as error:  # noqa: BLE001 - the test asserts what it was
                outcomes[n] = error

        threads = [threading.Thread(target=race, args=(n,)) for n in range(racers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        winners = [n for n, outcome in enumerate(outcomes) if outcome == "saved"]
        assert len(winners) == 1, outcomes
        assert all(isinstance(outcome, IntegrityError) for n, outcome in enumerate(outcomes) if n not in winners)
        won = winners[0]
        assert [_probed(store, probe) for probe in probes] == [n == won for n in range(racers)]
        assert store.get(run.id).stage_results["1"]["items_total"] == won + 1
        assert _head(store, run.id) == (2, copies[won].last_hash)


def test_side_writes_without_events_commit_together_or_not_at_all(store) -> None:
    run = _run()
    store.save(run)
    unchanged = store.get(run.id)
    first, second = f"probe-{uuid.uuid4()}", f"probe-{uuid.uuid4()}"
    store.save_with(unchanged, side_writes=[_probe(first), _probe(second)])
    assert _probed(store, first) and _probed(store, second)
    third = f"probe-{uuid.uuid4()}"
    with pytest.raises(IntegrityError):
        store.save_with(unchanged, side_writes=[_probe(third), _probe(first)])  # the second is a duplicate
    assert not _probed(store, third)


def test_a_save_notifies_the_relays_channel_at_commit(store, url) -> None:
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f"LISTEN {store.recorder.channel_name}")
        store.save(_run(stages=1))
        heard = list(listener.notifies(timeout=10, stop_after=1))
    assert [n.channel for n in heard] == [store.recorder.channel_name]


def test_a_save_holds_the_tables_lock_so_notification_ids_commit_in_order(store, url) -> None:
    """The library's EXCLUSIVE table lock: a save waits for an insert in flight to commit, so
    no reader of the notification log passes over an id that commits later."""
    outcome: list[Any] = []

    def save() -> None:
        try:
            store.save(_run())
            outcome.append("saved")
        except Exception as error:  # noqa: BLE001 - asserted below
            outcome.append(error)

    saving = threading.Thread(target=save)
    with psycopg.connect(url) as in_flight, psycopg.connect(url, autocommit=True) as watcher:
        in_flight.execute("LOCK TABLE automation_events IN ROW EXCLUSIVE MODE")  # what an INSERT holds
        saving.start()
        deadline = time.monotonic() + 4  # within the save's lock timeout (5 s)
        while not watcher.execute("SELECT count(*) FROM pg_locks WHERE relation = 'automation_events'::regclass"
                                  " AND mode = 'ExclusiveLock' AND NOT granted").fetchone()[0]:
            assert time.monotonic() < deadline, "the save never asked for the table's lock"
            time.sleep(0.02)
        assert not outcome
    saving.join(timeout=30)
    assert outcome == ["saved"]


def test_the_append_stays_prepared_on_the_stores_connections(store) -> None:
    for _ in range(20):  # every pooled connection has saved a few times
        store.save(_run(stages=1))
    failed = _run()
    store.save(failed)
    with pytest.raises(IntegrityError):  # a failed save deallocates nothing
        store.save(AutomationRun.start(run_id=failed.run_id, site_id="site", account_id="account",
                                       trigger_type="manual", config={}, reserved_credits=0, estimated_credits=0,
                                       now=NOW))
    probe = f"prepared-{uuid.uuid4()}"
    # The side write runs on the save's own connection, before the append.
    prepared = ("INSERT INTO outbox_position (name, position) SELECT %s, count(*) FROM pg_prepared_statements"
                " WHERE statement LIKE '%%append_automation_events%%'", (probe,))
    for _ in range(10):
        store.save_with(_run(stages=1), side_writes=[prepared])
        with store.statements() as cur:
            cur.execute("DELETE FROM outbox_position WHERE name = %s RETURNING position", (probe,))
            assert cur.fetchone()["position"] >= 1
