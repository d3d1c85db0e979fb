"""A pause that lands anywhere in a run's work leaves it paused (or completed), never failed."""

from __future__ import annotations

import asyncio
import random
import uuid

import pytest

from services.pipeline.application.service import PipelineService
from services.pipeline.application.supervisor import Supervisor
from shared.events.commands import PauseRun, ResumeRun, StartRun
from tests.support.keywords import keyword_set
from tests.support.stores import scratch_worker, seed_site

pytestmark = pytest.mark.integration


@pytest.fixture
async def service():
    with scratch_worker("pauses") as (url, store, handlers, worker):
        supervisor = Supervisor(worker.execute, worker.fail)
        yield url, store, PipelineService(handlers, supervisor), supervisor
        await supervisor.abort_all()


def _site(url: str) -> tuple[str, str]:
    # Enough work (ten clustering batches, one after another) that a pause in the first
    # quarter second mostly lands mid-run.
    return seed_site(url, keyword_set(topics=4, per_topic=5), stage_1_batch_size=2, ai_concurrency=16)


async def test_pauses_at_random_moments_never_fail_the_run(service) -> None:
    url, store, pipeline, supervisor = service
    rng = random.Random(7)
    outcomes = []
    for _ in range(25):
        account, site = _site(url)
        run_id = str(uuid.uuid4())
        await pipeline.dispatch(StartRun(site_id=site, account_id=account, run_id=run_id))
        await asyncio.sleep(rng.uniform(0, 0.25))  # the random moment, not a wait
        await pipeline.dispatch(PauseRun(site_id=site, account_id=account, run_id=run_id))
        async with asyncio.timeout(10):
            while run_id in supervisor.carrying():
                await asyncio.sleep(0.02)
        run = await asyncio.to_thread(store.get, uuid.UUID(run_id))
        assert run.status in ("paused", "completed"), run.error_message
        if run.status == "paused":
            assert run.pause_reason == "user"
        outcomes.append(run.status)
    # Pauses that all came too late would prove nothing: most must land mid-run.
    assert outcomes.count("paused") >= 10, outcomes


async def test_a_redelivered_pause_does_not_strand_the_resumed_run(service) -> None:
    url, store, pipeline, supervisor = service
    account, site = _site(url)
    run_id = str(uuid.uuid4())
    pause = PauseRun(site_id=site, account_id=account, run_id=run_id)
    await pipeline.dispatch(StartRun(site_id=site, account_id=account, run_id=run_id))
    await pipeline.dispatch(pause)
    await pipeline.dispatch(ResumeRun(site_id=site, account_id=account, run_id=run_id))
    # The same command again, as Kafka may deliver it: refused as a duplicate, and the
    # worker it woke in the meantime must not leave the run running with no one on it.
    assert (await pipeline.dispatch(pause)).outcome == "duplicate"
    async with asyncio.timeout(20):
        while run_id in supervisor.carrying():
            await asyncio.sleep(0.02)
    run = await asyncio.to_thread(store.get, uuid.UUID(run_id))
    assert run.status == "completed", (run.status, run.current_stage)
