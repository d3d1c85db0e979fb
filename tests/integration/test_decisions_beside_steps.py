"""Commands are decided on threads of their own: step work holding every thread of the
default executor (where the runs' step hops go) holds back no admission, pause or cancel."""

from __future__ import annotations

import asyncio
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from services.pipeline.adapters.account_slots import PgAccountSlots
from services.pipeline.adapters.ai.offline import OfflineAI
from services.pipeline.adapters.planner_sql import PgPlanner
from services.pipeline.application.commands import CommandHandlers
from services.pipeline.application.service import PipelineService
from services.pipeline.application.supervisor import Supervisor
from services.pipeline.application.worker import RunWorker
from shared.events.commands import CancelRun, PauseRun, StartRun
from tests.support.stores import scratch_store

pytestmark = pytest.mark.integration
DEADLINE_SECONDS = 30  # only so that a decision stuck behind the held thread fails instead of hanging


@pytest.fixture(scope="module")
def store():
    with scratch_store("beside_steps") as (url, store):
        yield url, store


def _site(url: str, *, config: bool) -> tuple[str, str]:
    account, site = str(uuid.uuid4()), str(uuid.uuid4())
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO accounts (id, name, credits) VALUES (%s, 'a', 100000)", (account,))
        conn.execute("INSERT INTO sites (id, account_id, name, domain) VALUES (%s, %s, 's', 'd')", (site, account))
        if config:
            conn.execute("INSERT INTO automation_config (site_id, within_stage_delay, between_stage_delay)"
                         " VALUES (%s, 0, 0)", (site,))
        for n in range(6):
            conn.execute("INSERT INTO keywords (id, site_id, keyword, keyword_norm) VALUES (%s, %s, %s, %s)",
                         (str(uuid.uuid4()), site, f"kw {n}", f"kw {n}"))
    return account, site


def test_commands_are_decided_while_step_work_holds_the_default_executor(store) -> None:
    url, run_store = store
    paused, cancelled = _site(url, config=True), _site(url, config=True)

    async def scenario() -> list[str]:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(1))  # the runs' step hops go here
        handlers = CommandHandlers(run_store, PgPlanner(run_store))
        worker = RunWorker(run_store, handlers, OfflineAI(), PgAccountSlots(run_store))
        supervisor = Supervisor(worker.execute, worker.fail)
        pipeline = PipelineService(handlers, supervisor)
        released = threading.Event()
        held = loop.run_in_executor(None, released.wait)  # step work that doesn't end for now
        try:
            outcomes = []
            for (account, site), stop in ((paused, PauseRun), (cancelled, CancelRun)):
                run_id = str(uuid.uuid4())
                for command in (StartRun(site_id=site, account_id=account, run_id=run_id),
                                stop(site_id=site, account_id=account, run_id=run_id)):
                    decision = await asyncio.wait_for(pipeline.dispatch(command), DEADLINE_SECONDS)
                    outcomes.append(f"{command.type} {decision.outcome}")
            assert not held.done()  # decided while the step work still held its thread
            return outcomes
        finally:
            released.set()
            await held
            await supervisor.abort_all()

    assert asyncio.run(scenario()) == ["StartRun accepted", "PauseRun accepted",
                                       "StartRun accepted", "CancelRun accepted"]
    with psycopg.connect(url) as conn:
        statuses = dict(conn.execute("SELECT site_id, status FROM pipeline_runs WHERE site_id = ANY(%s)",
                                     ([paused[1], cancelled[1]],)).fetchall())
    assert statuses == {paused[1]: "paused", cancelled[1]: "cancelled"}


def test_admission_reads_a_site_without_a_config_row_and_its_pending_items(store) -> None:
    url, run_store = store
    account, site = _site(url, config=False)
    inputs = PgPlanner(run_store).admission_inputs(site, account)
    assert inputs is not None
    assert inputs.pending == {1: 6}  # six keywords, all waiting for stage 1
    assert inputs.config["stage_1_batch_size"] > 0  # the table's defaults, its row made now
    assert (inputs.credits, inputs.reserved) == (100000, 0)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM automation_config WHERE site_id = %s", (site,)).fetchone()[0] == 1
    assert PgPlanner(run_store).admission_inputs(site, str(uuid.uuid4())) is None  # not that account's site
