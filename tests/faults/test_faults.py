"""Kills and outages mid-run, on the suite's own PostgreSQL and Kafka: nothing is lost,
nothing is done or charged twice, and every event reaches the read models."""

from __future__ import annotations

import time
from typing import Callable, Iterator

import pytest

from tests.faults.checks import (
    Figures, Started, account, finish, start_runs, store_status, stored_events, wait_events,
)
from tests.faults.conftest import Faults

pytestmark = pytest.mark.faults


@pytest.fixture
def scenario(request, faults: Faults, figures: list[Figures]) -> Iterator[Figures]:
    figure = Figures(request.node.name.removeprefix("test_"))
    began = time.monotonic()
    faults.stack.wait_ready()  # an earlier scenario's fault must have healed
    yield figure
    figure.seconds = round(time.monotonic() - began, 1)
    figures.append(figure)
    print(f"\n{Figures.line(figure.as_dict())}")


def _assert_clean(figure: Figures) -> None:
    assert (figure.outputs_lost, figure.outputs_duplicated, figure.events_missing, figure.credit_difference) \
        == (0, 0, 0, 0), figure


def _progress(faults: Faults, run: Started) -> Callable[[], int]:
    """Waits for the run's next few events in the store (the read model may be held back)."""
    return lambda: wait_events(faults.stack, run.run_id, stored_events(faults.stack, run.run_id) + 3)


def test_pipeline_sigkilled_three_times_during_one_run(faults: Faults, scenario: Figures) -> None:
    runs = start_runs(faults.api, 2)
    scenario.runs = len(runs)
    progress = _progress(faults, runs[0])
    for _ in range(3):
        progress()  # each kill lands after the previous pipeline, or its successor, did work
        faults.restart_process("pipeline")
        scenario.kills += 1
    assert store_status(faults.stack, runs[0].run_id) == "running", "the kills came too late"
    finish(faults.api, runs, scenario)
    account(faults.stack, runs, scenario)
    _assert_clean(scenario)


def test_projector_sigkilled_during_a_burst_of_events(faults: Faults, scenario: Figures) -> None:
    runs = start_runs(faults.api, 3)
    scenario.runs = len(runs)
    progress = _progress(faults, runs[0])
    for _ in range(2):
        progress()
        faults.stack.kill("projector")
        scenario.kills += 1
        assert store_status(faults.stack, runs[0].run_id) == "running", "the burst was over"
        progress()  # the burst goes on while nothing projects it
        faults.stack.start_process("projector", "services.projector")
    finish(faults.api, runs, scenario)
    account(faults.stack, runs, scenario)
    _assert_clean(scenario)


def test_kafka_broker_stopped_for_ten_seconds_mid_run(faults: Faults, scenario: Figures) -> None:
    runs = start_runs(faults.api, 2)
    scenario.runs = len(runs)
    _progress(faults, runs[0])()
    faults.kafka.stop()
    assert store_status(faults.stack, runs[0].run_id) == "running", "the outage came too late"
    time.sleep(10)  # the outage itself, not a wait for something
    faults.kafka.start()
    scenario.restarts += 1
    finish(faults.api, runs, scenario)
    account(faults.stack, runs, scenario)
    _assert_clean(scenario)


def test_postgres_restarted_mid_run(faults: Faults, scenario: Figures) -> None:
    runs = start_runs(faults.api, 2)
    scenario.runs = len(runs)
    _progress(faults, runs[0])()
    assert store_status(faults.stack, runs[0].run_id) == "running", "the restart came too late"
    faults.postgres.stop()
    # The outage itself: long enough that every process's next query finds the server gone,
    # not only the connections it had open.
    time.sleep(5)
    faults.postgres.start()
    scenario.restarts += 1
    finish(faults.api, runs, scenario)
    account(faults.stack, runs, scenario)
    _assert_clean(scenario)
