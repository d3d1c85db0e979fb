"""On a real event store: commits start from the run as the worker saved it last, and fall back
to the run read afresh when someone else wrote in between; a step admits a slot's worth of
items when the balance can't cover the whole group it loaded."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from services.pipeline.adapters.account_slots import PgAccountSlots
from services.pipeline.adapters.event_store import RunStore
from services.pipeline.adapters.planner_sql import PgPlanner
from services.pipeline.application.batch_bound import batch_bound
from services.pipeline.application.commands import CommandHandlers
from services.pipeline.application.held_runs import HeldRuns
from services.pipeline.application.stage_cycle import StageSteps, Step
from services.pipeline.domain.errors import InvalidTransition
from shared.events.commands import PauseRun, StartRun
from shared.infra.settings import Settings
from tests.support.keywords import keyword_set
from tests.support.stores import seed_site
from tests.support.stack import SESSION, drop_database, migrated_database

pytestmark = pytest.mark.integration
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)


def _now() -> datetime:
    return NOW


@pytest.fixture(scope="module")
def database():
    name = f"automation_test_held_runs_{SESSION}"
    url = migrated_database(name)
    yield url
    drop_database(name)


@pytest.fixture
def stores(database):
    """The worker's store and another process's, on the same database."""
    ours = RunStore.from_settings(Settings(database_url=database))
    theirs = RunStore.from_settings(Settings(database_url=database))
    yield ours, theirs
    ours.close()
    theirs.close()


class CountedReads:
    """The worker's store, counting the runs it reads back."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self.reads = 0
        self._get = store.get

        def get(aggregate_id):
            self.reads += 1
            return self._get(aggregate_id)

        store.get = get  # type: ignore[method-assign]


def _site(url: str, keywords: int = 0, clusters: int = 0) -> tuple[str, str]:
    account, site = seed_site(url, keyword_set()[:keywords], stage_1_batch_size=10, ai_concurrency=4)
    with psycopg.connect(url) as conn:
        for n in range(clusters):
            # Names of different lengths: the bound of a group depends on which items it holds.
            conn.execute("INSERT INTO clusters (id, site_id, name, description) VALUES (%s, %s, %s, %s)",
                         (f"cluster-{n:02d}-{uuid.uuid4()}", site, f"topic {n} " + "x" * (40 * n),
                          "coffee at home " * (n + 1)))
    return account, site


def _admit(handlers: CommandHandlers, account: str, site: str) -> str:
    run_id = str(uuid.uuid4())
    decision = handlers.handle(StartRun(site_id=site, account_id=account, run_id=run_id))
    assert decision.outcome == "accepted", decision
    return run_id


def _in_stage_1(database: str, store: RunStore, *, open_batch: bool) -> tuple[HeldRuns, str, str, str]:
    """A run admitted on a site of 4 keywords and held by ``store``'s worker in stage 1, with
    batch ``w/b1`` open if ``open_batch``: (held runs, run id, account, site)."""
    handlers = CommandHandlers(store, PgPlanner(store))
    account, site = _site(database, keywords=4)
    run_id = _admit(handlers, account, site)
    runs = HeldRuns(store, handlers)
    runs.commit(run_id, lambda r: r.start_stage(1, 4, NOW))
    if open_batch:
        runs.commit(run_id, lambda r: r.start_batch(1, [{"id": "k1", "title": "t"}], "w/b1", NOW))
    return runs, run_id, account, site


def _events(store: RunStore, run_id: str) -> list[tuple[int, str, dict]]:
    """The run's stored events: (version, type, data), in the order stored."""
    return [(event.originator_version, type(event).__name__, getattr(event, "data", {}))
            for event in store.events.get(uuid.UUID(run_id))]


def _set_available(url: str, account: str, run_id: str, available: int) -> None:
    """What the run may still spend, as the credit functions would leave it: its reservation
    is the account's only one, and all of the account's credits."""
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE run_reservations SET remaining = %s WHERE run_id = %s", (available, run_id))
        conn.execute("UPDATE accounts SET credits = %s, reserved = %s WHERE id = %s", (available, available, account))


# --- HeldRuns --------------------------------------------------------------------------------


def test_commits_after_the_first_mutate_the_held_run_without_reading_it_back(database, stores) -> None:
    ours, _ = stores
    handlers = CommandHandlers(ours, PgPlanner(ours))
    account, site = _site(database, keywords=4)
    run_id = _admit(handlers, account, site)
    reads = CountedReads(ours)
    runs = HeldRuns(ours, handlers)

    runs.commit(run_id, lambda r: r.start_stage(1, 4, NOW))
    assert reads.reads == 1  # nothing held yet: read from the store
    runs.commit(run_id, lambda r: r.start_batch(1, [{"id": "k1", "title": "t"}], "w/b1", NOW))
    runs.commit(run_id, lambda r: r.process_batch(batch_id="w/b1", stage=1, processed=1, failures=[],
                                                  outputs_created=0, credits=0, now=NOW))
    assert reads.reads == 1  # the next two mutated the run as saved
    assert [t for _, t, _ in _events(ours, run_id)] == [
        "RunStarted", "StageStarted", "BatchStarted", "BatchProcessed"]

    runs.commit(run_id, lambda r: r.start_batch(1, [{"id": "k2", "title": "t"}], "w/b2", NOW), fresh=True)
    assert reads.reads == 2  # fresh: read from the store whatever is held


def test_a_pause_written_elsewhere_refuses_the_next_batch_but_not_the_record_of_an_open_one(
        database, stores) -> None:
    ours, theirs = stores
    runs, run_id, account, site = _in_stage_1(database, ours, open_batch=True)
    assert runs.held(run_id).open_batches == ["w/b1"]

    # Another process records a pause: the run the worker holds is now a version behind.
    paused = CommandHandlers(theirs, PgPlanner(theirs)).handle(PauseRun(site_id=site, account_id=account, run_id=run_id))
    assert paused.outcome == "accepted"
    assert runs.held(run_id).status == "running"

    reads = CountedReads(ours)
    mutated_statuses: list[str] = []

    def next_batch(run) -> None:
        mutated_statuses.append(run.status)
        run.start_batch(1, [{"id": "k2", "title": "t"}], "w/b2", NOW)

    with pytest.raises(InvalidTransition):
        runs.commit(run_id, next_batch)
    # First on the held run (running: its save conflicted), then on the run read afresh (paused).
    assert mutated_statuses == ["running", "paused"]
    assert reads.reads == 1
    assert runs.held(run_id) is None  # the stale instance is not kept

    # The calls of the open batch returned: they are recorded into the paused run.
    runs.commit(run_id, lambda r: r.process_batch(batch_id="w/b1", stage=1, processed=1, failures=[],
                                                  outputs_created=0, credits=2, now=NOW))

    events = _events(theirs, run_id)
    assert [version for version, _, _ in events] == list(range(1, len(events) + 1))
    assert [t for _, t, _ in events] == [
        "RunStarted", "StageStarted", "BatchStarted", "RunPaused", "CreditsUsed", "BatchProcessed"]
    assert [d.get("batch_id") for _, t, d in events if t.startswith("Batch")] == ["w/b1", "w/b1"]
    run = theirs.get(uuid.UUID(run_id))
    assert run.status == "paused" and run.open_batches == []
    assert run.stage_results["1"]["items_processed"] == 1 and run.total_credits_used == 2


def test_a_held_run_that_keeps_conflicting_is_not_retried_as_is(database, stores) -> None:
    """Each retry starts from the run read afresh: with the held instance tried again, every
    attempt would conflict and the commit fail with IntegrityError."""
    ours, theirs = stores
    runs, run_id, _, _ = _in_stage_1(database, ours, open_batch=True)
    # Another writer appends to the run (a second worker after a rebalance announcing its batch).
    other = theirs.get(uuid.UUID(run_id))
    other.start_batch(1, [{"id": "k9", "title": "t"}], "v/b9", NOW)
    theirs.save(other)

    runs.commit(run_id, lambda r: r.start_batch(1, [{"id": "k2", "title": "t"}], "w/b2", NOW))

    events = _events(theirs, run_id)
    assert [version for version, _, _ in events] == [1, 2, 3, 4, 5]
    assert [d.get("batch_id") for _, t, d in events if t == "BatchStarted"] == ["w/b1", "v/b9", "w/b2"]
    assert runs.held(run_id).version == 5


def test_a_conflict_that_outlasts_the_retries_is_raised(database, stores, monkeypatch) -> None:
    ours, theirs = stores
    runs, run_id, _, _ = _in_stage_1(database, ours, open_batch=False)
    attempts = []

    def racing(run) -> None:
        # Someone else writes between every read and save of ours.
        attempts.append(run.version)
        other = theirs.get(uuid.UUID(run_id))
        other.start_batch(1, [{"id": f"k{len(attempts)}", "title": "t"}], f"v/b{len(attempts)}", NOW)
        theirs.save(other)
        run.start_batch(1, [{"id": "w", "title": "t"}], f"w/b{len(attempts)}", NOW)

    with pytest.raises(IntegrityError):
        runs.commit(run_id, racing)
    assert attempts == [2, 3, 4, 5, 6]  # each attempt on the run as it then stood
    assert [t for _, t, _ in _events(theirs, run_id)].count("BatchStarted") == 5  # theirs only
    assert runs.held(run_id) is None


# --- StageSteps: the credit fallback ---------------------------------------------------------


@pytest.fixture
def stage_2(database, stores):
    """A running run in stage 2 (ideas) with 12 clusters pending, and what the step loads."""
    ours, _ = stores
    planner = PgPlanner(ours)
    handlers = CommandHandlers(ours, planner)
    account, site = _site(database, clusters=12)
    run_id = _admit(handlers, account, site)
    runs = HeldRuns(ours, handlers)
    runs.commit(run_id, lambda r: r.start_stage(2, 12, NOW))
    loaded = planner.load_batch(site, run_id, 2, 12, ())
    assert len(loaded) == 12
    return ours, planner, runs, StageSteps(planner, runs, _now), account, site, run_id, loaded


def test_a_steps_reads_in_one_trip_answer_as_each_read_alone(database, stage_2) -> None:
    store, planner, runs, steps, account, site, run_id, loaded = stage_2
    skip = [loaded[0]["id"]]

    reads = planner.step_reads(site, run_id, account, 2, 5, skip, clusters=True, credits=True)

    assert reads.items == planner.load_batch(site, run_id, 2, 5, skip)
    assert reads.clusters == planner.existing_clusters(site) and len(reads.clusters) == 12
    assert reads.available == planner.available_credits(account, run_id) > 0


def test_a_steps_reads_leave_out_what_was_not_asked_for(database, stage_2) -> None:
    store, planner, runs, steps, account, site, run_id, loaded = stage_2

    reads = planner.step_reads(site, run_id, account, 2, 0, (), clusters=False, credits=False)

    assert (reads.items, reads.clusters, reads.available) == ([], None, 0)


def _step(at_least: int, skip: tuple[str, ...] = ()) -> Step:
    return Step([], want=12, skip=skip, may_complete=True, batch_id="w/g1", at_least=at_least)


def test_a_step_admits_the_whole_group_when_the_balance_covers_it(database, stage_2) -> None:
    store, planner, runs, steps, account, site, run_id, loaded = stage_2
    _set_available(database, account, run_id, batch_bound(planner, site, 2, loaded))

    result = steps.take(runs.held(run_id), 2, _step(at_least=4))

    assert [i["id"] for i in result.admitted] == [i["id"] for i in loaded]
    assert not result.short and not result.refused


@pytest.mark.parametrize("short_by", [0, 1])  # the balance just covers a slot's worth, and well over it
def test_a_step_falls_back_to_a_slots_worth_when_the_balance_cannot_cover_the_group(
        database, stage_2, short_by) -> None:
    store, planner, runs, steps, account, site, run_id, loaded = stage_2
    whole, slots_worth = batch_bound(planner, site, 2, loaded), batch_bound(planner, site, 2, loaded[:4])
    assert slots_worth < whole
    available = slots_worth if short_by == 0 else whole - 1
    _set_available(database, account, run_id, available)
    assert planner.available_credits(account, run_id) == available

    result = steps.take(runs.held(run_id), 2, _step(at_least=4))

    assert [i["id"] for i in result.admitted] == [i["id"] for i in loaded[:4]]
    assert not result.short and not result.refused and not result.completed
    last = _events(store, run_id)[-1]
    assert last[1] == "BatchStarted" and last[2]["batch_id"] == "w/g1" and last[2]["item_count"] == 4


def test_a_step_admits_nothing_and_is_short_when_not_even_a_slots_worth_is_covered(database, stage_2) -> None:
    store, planner, runs, steps, account, site, run_id, loaded = stage_2
    _set_available(database, account, run_id, batch_bound(planner, site, 2, loaded[:4]) - 1)
    before = _events(store, run_id)

    result = steps.take(runs.held(run_id), 2, _step(at_least=4))

    assert result.admitted == [] and result.short
    assert not result.completed  # short of credits is not the end of the stage
    assert _events(store, run_id) == before  # nothing announced


def test_the_fallback_counts_the_items_still_in_flight_at_the_same_rate(database, stage_2) -> None:
    """Four items in flight (not yet charged) with four admitted: the balance must cover twice
    the bound of the four."""
    store, planner, runs, steps, account, site, run_id, loaded = stage_2
    in_flight = ("in-flight-1", "in-flight-2", "in-flight-3", "in-flight-4")
    slots_worth = batch_bound(planner, site, 2, loaded[:4])
    _set_available(database, account, run_id, 2 * slots_worth - 1)
    assert steps.take(runs.held(run_id), 2, _step(at_least=4, skip=in_flight)).short

    _set_available(database, account, run_id, 2 * slots_worth)
    result = steps.take(runs.held(run_id), 2, _step(at_least=4, skip=in_flight))
    assert [i["id"] for i in result.admitted] == [i["id"] for i in loaded[:4]] and not result.short


def test_items_the_balance_left_out_are_still_to_come_even_when_fewer_were_pending_than_asked_for(
        database, stage_2) -> None:
    """Twelve pending, sixteen asked for, four affordable: eight remain, so the stage is not drained
    (a drained stage completes once its calls in flight return, leaving the eight undone)."""
    store, planner, runs, steps, account, site, run_id, loaded = stage_2
    _set_available(database, account, run_id, batch_bound(planner, site, 2, loaded[:4]))

    result = steps.take(runs.held(run_id), 2, Step([], want=16, may_complete=True, batch_id="w/g1", at_least=4))

    assert len(result.admitted) == 4 and not result.short
    assert not result.drained
    assert planner.count_pending(site, run_id, 2) == 12  # the four admitted are pending until recorded


def test_all_that_was_pending_admitted_drains_the_stage(database, stage_2) -> None:
    store, planner, runs, steps, account, site, run_id, loaded = stage_2
    _set_available(database, account, run_id, batch_bound(planner, site, 2, loaded))

    result = steps.take(runs.held(run_id), 2, Step([], want=16, may_complete=True, batch_id="w/g1", at_least=4))

    assert len(result.admitted) == 12 and result.drained and not result.completed


@pytest.mark.parametrize("want, drained", [(12, True), (11, False)])
def test_a_load_knows_whether_it_took_the_last_pending_item(database, stage_2, want, drained) -> None:
    """Twelve pending: a load that takes all twelve drains the stage, though it found no fewer
    than it asked for; one that takes eleven leaves one to come."""
    store, planner, runs, steps, account, site, run_id, loaded = stage_2
    _set_available(database, account, run_id, batch_bound(planner, site, 2, loaded))

    result = steps.take(runs.held(run_id), 2, Step([], want=want, may_complete=True, batch_id="w/g1", at_least=4))

    assert len(result.admitted) == want and result.drained is drained and not result.completed


# --- StageSteps: a stage starts in its first step, the run completes in the last -------------


def _writes(url: str, run_id: str, after: int) -> list[list[str]]:
    """The run's events after version ``after``, by the transaction that wrote them, in order."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT xmin::text, topic FROM automation_events WHERE originator_id = %s AND originator_version > %s"
            " ORDER BY originator_version", (uuid.UUID(run_id), after)).fetchall()
    writes: dict[str, list[str]] = {}
    for xmin, topic in rows:
        writes.setdefault(xmin, []).append(topic.rpartition(":")[2])
    return list(writes.values())


@pytest.mark.parametrize("want, total", [(10, 4), (3, 4)])  # a load that saw every pending item, and one that didn't
def test_a_stages_first_step_starts_it_counting_its_items_with_the_batch_it_admits(
        database, stores, want, total) -> None:
    ours, _ = stores
    planner = PgPlanner(ours)
    handlers = CommandHandlers(ours, planner)
    account, site = _site(database, keywords=4)
    run_id = _admit(handlers, account, site)
    runs = HeldRuns(ours, handlers)

    result = StageSteps(planner, runs, _now).take(
        ours.get(uuid.UUID(run_id)), 1, Step([], want=want, may_complete=True, batch_id="w/g1", starting=True))

    assert len(result.admitted) == min(want, 4) and not result.completed
    assert _writes(database, run_id, after=1) == [["StageStarted", "BatchStarted"]]
    run = runs.held(run_id)
    assert run.stage_results["1"]["items_total"] == total and run.open_batches == ["w/g1"]


def test_a_stage_with_nothing_pending_starts_and_completes_in_one_transaction(database, stores) -> None:
    ours, _ = stores
    planner = PgPlanner(ours)
    handlers = CommandHandlers(ours, planner)
    account, site = _site(database, clusters=0, keywords=0)
    run_id = _admit(handlers, account, site)
    runs = HeldRuns(ours, handlers)

    result = StageSteps(planner, runs, _now).take(
        ours.get(uuid.UUID(run_id)), 1, Step([], want=10, may_complete=True, batch_id="w/g1", starting=True))

    assert result.completed and result.drained and not result.admitted
    assert _writes(database, run_id, after=1) == [["StageStarted", "StageCompleted"]]
    result_1 = runs.held(run_id).stage_results["1"]
    assert result_1["items_total"] == 0 and result_1["completed_at"] and runs.held(run_id).current_stage == 2


def test_the_last_stages_completing_step_completes_the_run_with_it(database, stores) -> None:
    ours, _ = stores
    planner = PgPlanner(ours)
    handlers = CommandHandlers(ours, planner)
    account, site = _site(database)
    run_id = _admit(handlers, account, site)
    runs = HeldRuns(ours, handlers)
    for stage in range(1, 7):
        runs.commit(run_id, lambda r, s=stage: (r.start_stage(s, 0, NOW), r.complete_stage(s, NOW)))
    version = runs.held(run_id).version

    slots = PgAccountSlots(ours)
    assert slots.lease(account, run_id, 4, 15.0) == 4

    result = StageSteps(planner, runs, _now).take(runs.held(run_id), 7, Step(
        [], want=10, may_complete=True, batch_id="w/g7", starting=True, ending=[slots.give_back(account, run_id)]))

    assert result.completed
    assert _writes(database, run_id, after=version) == [["StageStarted", "StageCompleted", "RunCompleted"]]
    run = ours.get(uuid.UUID(run_id))
    assert run.status == "completed" and run.stage_results["7"]["completed_at"]
    with psycopg.connect(database) as conn:
        status = conn.execute("SELECT status FROM pipeline_runs WHERE run_id = %s", (run_id,)).fetchone()[0]
    assert status == "completed"
    _admit(handlers, account, site)  # the site's slot was released with it
    with psycopg.connect(database) as conn:  # and the run's AI slots
        assert conn.execute("SELECT count(*) FROM ai_slot_leases WHERE holder = %s", (run_id,)).fetchone()[0] == 0


def test_a_first_step_on_a_run_paused_meanwhile_starts_nothing(database, stores) -> None:
    ours, theirs = stores
    planner = PgPlanner(ours)
    handlers = CommandHandlers(ours, planner)
    account, site = _site(database, keywords=4)
    run_id = _admit(handlers, account, site)
    runs = HeldRuns(ours, handlers)
    held = ours.get(uuid.UUID(run_id))
    paused = CommandHandlers(theirs, PgPlanner(theirs)).handle(PauseRun(site_id=site, account_id=account, run_id=run_id))
    assert paused.outcome == "accepted"

    result = StageSteps(planner, runs, _now).take(
        held, 1, Step([], want=10, may_complete=True, batch_id="w/g1", starting=True))

    assert result.refused and not result.admitted and not result.completed
    assert [t for _, t, _ in _events(ours, run_id)] == ["RunStarted", "RunPaused"]
