"""A run goes through its stages in as few thread hops as it can: the hop whose step completes
a stage takes the next stage's first step too (its own transaction, after the one that recorded
what it counts), and the first hop starts from the run as its admission saved it."""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import uuid

import psycopg
import pytest

from services.pipeline.application.commands import CommandHandlers
from services.pipeline.application.stop_flag import StopFlag
from shared.events.commands import StartRun
from shared.stages import STAGES
from tests.support.keywords import keyword_set
from tests.support.stores import scratch_worker, seed_site

pytestmark = pytest.mark.integration
HOP: contextvars.ContextVar[int] = contextvars.ContextVar("hop", default=-1)


@pytest.fixture
async def worker():
    with scratch_worker("stage_hops") as parts:
        yield parts


def _admitted_run(url: str, handlers: CommandHandlers) -> str:
    account, site = seed_site(url, keyword_set(), stage_1_batch_size=20, ai_concurrency=4)
    run_id = str(uuid.uuid4())
    assert handlers.handle(StartRun(site_id=site, account_id=account, run_id=run_id)).outcome == "accepted"
    return run_id


async def test_the_hop_that_completes_a_stage_starts_the_next_one(worker, monkeypatch) -> None:
    url, store, handlers, run_worker = worker
    run_id = _admitted_run(url, handlers)
    hops = itertools.count()
    to_thread = asyncio.to_thread

    async def numbered(func, /, *args, **kwargs):
        # The thread runs in a copy of this context: its steps see the hop's number.
        token = HOP.set(next(hops))
        try:
            return await to_thread(func, *args, **kwargs)
        finally:
            HOP.reset(token)

    steps: list[tuple[int, int, bool, bool]] = []  # (hop, stage, starting, completed)
    take = run_worker.steps.take

    def noted(run, stage, step):
        result = take(run, stage, step)
        steps.append((HOP.get(), stage, step.starting, result.completed))
        return result

    monkeypatch.setattr(asyncio, "to_thread", numbered)
    monkeypatch.setattr(run_worker.steps, "take", noted)
    async with asyncio.timeout(60):
        await run_worker.execute(run_id, StopFlag())

    assert store.get(uuid.UUID(run_id)).status == "completed"
    completing = {stage: hop for hop, stage, _, completed in steps if completed}
    starting = {stage: hop for hop, stage, first, _ in steps if first}
    assert sorted(completing) == sorted(starting) == [s.number for s in STAGES]
    for before, after in zip(STAGES, STAGES[1:]):
        assert starting[after.number] == completing[before.number], steps
    assert HOP.get() not in {hop for hop, *_ in steps}  # every step ran in a numbered hop


async def test_a_worker_starts_from_the_run_as_its_admission_saved_it(worker, monkeypatch) -> None:
    url, store, handlers, run_worker = worker
    run_id = _admitted_run(url, handlers)
    read = store.get
    reads: list[uuid.UUID] = []

    def counted(aggregate_id):
        reads.append(aggregate_id)
        return read(aggregate_id)

    monkeypatch.setattr(store, "get", counted)
    async with asyncio.timeout(60):
        await run_worker.execute(run_id, StopFlag())

    assert read(uuid.UUID(run_id)).status == "completed"
    # Not even to begin: every commit started from the run as saved last (its completion reads
    # the site's slot, another aggregate).
    assert uuid.UUID(run_id) not in reads


async def test_clustering_records_its_last_batch_and_completes_in_one_transaction(worker, monkeypatch) -> None:
    """Twenty keywords in batches of ten: the second batch's load takes the last of them and
    knows it (it asks for one more than it takes), so the step that records that batch also
    completes the stage, in one transaction and with no load of its own. Clustering records a
    batch in a transaction of its own before it loads the next, so that load would cost one."""
    url, store, handlers, run_worker = worker
    account, site = seed_site(url, keyword_set(), stage_1_batch_size=10, ai_concurrency=4)
    run_id = str(uuid.uuid4())
    assert handlers.handle(StartRun(site_id=site, account_id=account, run_id=run_id)).outcome == "accepted"
    loads: list[int] = []
    step_reads = run_worker.planner.step_reads

    def counted(site_id, run_id_, account_id, stage, limit, *args, **kwargs):
        if stage == 1 and limit:
            loads.append(limit)
        return step_reads(site_id, run_id_, account_id, stage, limit, *args, **kwargs)

    monkeypatch.setattr(run_worker.planner, "step_reads", counted)
    async with asyncio.timeout(60):
        await run_worker.execute(run_id, StopFlag())

    assert store.get(uuid.UUID(run_id)).status == "completed"
    assert loads == [11, 11]  # each batch's ten, and one more to tell whether any follow
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT xmin::text, topic FROM automation_events WHERE originator_id = %s"
                            " ORDER BY originator_version", (uuid.UUID(run_id),)).fetchall()
    transactions: dict[str, list[str]] = {}
    for xmin, topic in rows:
        transactions.setdefault(xmin, []).append(topic.rpartition(":")[2])
    completing = next(t for t in transactions.values() if "StageCompleted" in t)  # stage 1's
    assert completing == ["CreditsUsed", "BatchProcessed", "StageCompleted"], transactions
