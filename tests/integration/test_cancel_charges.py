"""A cancel mid-group: the AI calls that returned are recorded and charged once; those still
in flight are aborted and cost nothing. A pause lets every call in flight finish into the
paused run, and a resume does not do them again."""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest

from services.pipeline.adapters.account_slots import PgAccountSlots
from services.pipeline.adapters.ai.offline import OfflineAI
from services.pipeline.adapters.event_store import RunStore
from services.pipeline.adapters.planner_sql import PgPlanner
from services.pipeline.application.ai_port import AIResult, ClusterInput, Idea
from services.pipeline.application.commands import CommandHandlers
from services.pipeline.application.service import PipelineService
from services.pipeline.application.supervisor import Supervisor
from services.pipeline.application.worker import RunWorker
from shared.events.commands import CancelRun, PauseRun, ResumeRun, StartRun
from shared.infra.settings import Settings
from tests.support.keywords import keyword_set
from tests.support.stores import seed_site
from tests.support.stack import SESSION, drop_database, migrated_database

pytestmark = pytest.mark.integration
CREDITS = 100_000


class HeldIdeas(OfflineAI):
    """Ideas for the first cluster come back at once; the others wait until released."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.returned = 0
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    async def generate_ideas(self, cluster: ClusterInput) -> AIResult[list[Idea]]:
        self.calls += 1
        if self.calls > 1:
            self.held.set()
            await self.release.wait()
        answer = await super().generate_ideas(cluster)
        self.returned += 1
        return answer


@pytest.fixture
async def pipeline():
    name = f"automation_test_cancel_charges_{SESSION}"
    url = migrated_database(name)
    store = RunStore.from_settings(Settings(database_url=url))
    ai = HeldIdeas()
    handlers = CommandHandlers(store, PgPlanner(store))
    supervisor = Supervisor(RunWorker(store, handlers, ai, PgAccountSlots(store)).execute, lambda *_: asyncio.sleep(0))
    yield url, store, ai, PipelineService(handlers, supervisor), supervisor
    await supervisor.abort_all()
    store.close()
    drop_database(name)


def _site(url: str) -> tuple[str, str]:
    return seed_site(url, keyword_set(), credits=CREDITS, stage_1_batch_size=100, ai_concurrency=16)


def _ledger(url: str, account: str, run_id: str) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        debited = conn.execute("SELECT COALESCE(sum(amount), 0) FROM credit_ledger WHERE run_id = %s"
                               " AND kind = 'debit'", (run_id,)).fetchone()[0]
        balance = conn.execute("SELECT credits FROM accounts WHERE id = %s", (account,)).fetchone()[0]
    return int(debited), int(balance)


async def _until(condition, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.01)


async def _stage_2_held(ai: HeldIdeas) -> None:
    await asyncio.wait_for(ai.held.wait(), timeout=30)
    await _until(lambda: ai.returned >= 1)


async def test_a_cancel_records_and_charges_the_calls_that_returned_once(pipeline) -> None:
    url, store, ai, service, supervisor = pipeline
    account, site = _site(url)
    run_id = str(uuid.uuid4())
    await service.dispatch(StartRun(site_id=site, account_id=account, run_id=run_id))
    await _stage_2_held(ai)

    await service.dispatch(CancelRun(site_id=site, account_id=account, run_id=run_id))
    run = await asyncio.to_thread(store.get, uuid.UUID(run_id))
    assert run.status == "cancelled"
    assert run.stage_results["2"]["items_processed"] == 1  # the one call that returned, recorded
    assert run.stage_results["2"]["credits_used"] > 0
    debited, balance = _ledger(url, account, run_id)
    assert debited == run.total_credits_used and balance == CREDITS - debited


async def test_a_pause_records_the_calls_in_flight_into_the_paused_run_and_resume_does_not_redo_them(pipeline) -> None:
    url, store, ai, service, supervisor = pipeline
    account, site = _site(url)
    run_id = str(uuid.uuid4())
    await service.dispatch(StartRun(site_id=site, account_id=account, run_id=run_id))
    await _stage_2_held(ai)
    in_flight = ai.calls

    await service.dispatch(PauseRun(site_id=site, account_id=account, run_id=run_id))
    assert (await asyncio.to_thread(store.get, uuid.UUID(run_id))).status == "paused"  # recorded at once
    ai.release.set()
    await _until(lambda: run_id not in supervisor.carrying())
    paused = await asyncio.to_thread(store.get, uuid.UUID(run_id))
    assert paused.status == "paused" and paused.stage_results["2"]["items_processed"] == in_flight
    assert ai.calls == in_flight  # nothing new started after the pause

    await service.dispatch(ResumeRun(site_id=site, account_id=account, run_id=run_id))
    await _until(lambda: run_id not in supervisor.carrying(), timeout=60)
    run = await asyncio.to_thread(store.get, uuid.UUID(run_id))
    assert run.status == "completed"
    total = run.stage_results["2"]["items_total"]
    assert run.stage_results["2"]["items_processed"] == total == ai.calls  # each cluster asked once
    debited, balance = _ledger(url, account, run_id)
    assert debited == run.total_credits_used and balance == CREDITS - debited
