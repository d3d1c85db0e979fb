"""A stage without AI calls works in batches of its ``batch_size`` items (CONTRACT §4: the
batch size is the items of a unit of work), one batch as one unit."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from services.pipeline.adapters.account_slots import PgAccountSlots
from services.pipeline.adapters.ai.offline import OfflineAI
from services.pipeline.adapters.event_store import RunStore
from services.pipeline.adapters.planner_sql import PgPlanner
from services.pipeline.application.commands import CommandHandlers
from services.pipeline.application.stop_flag import StopFlag
from services.pipeline.application.worker import RunWorker
from shared.events.commands import StartRun
from shared.infra.settings import Settings
from tests.support.keywords import keyword_set
from tests.support.stack import SESSION, drop_database, migrated_database

pytestmark = pytest.mark.integration
IDEAS_TO_TASKS = 3


@pytest.fixture
async def worker():
    name = f"automation_test_stage_batches_{SESSION}"
    url = migrated_database(name)
    store = RunStore.from_settings(Settings(database_url=url))
    handlers = CommandHandlers(store, PgPlanner(store))
    yield url, store, handlers, RunWorker(store, handlers, OfflineAI(), PgAccountSlots(store))
    store.close()
    drop_database(name)


@pytest.mark.parametrize("batch_size", [1, 2, 3])
async def test_a_stage_without_ai_calls_announces_batches_of_its_batch_size(worker, batch_size) -> None:
    url, store, handlers, run_worker = worker
    account, site = str(uuid.uuid4()), str(uuid.uuid4())
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO accounts (id, name, credits) VALUES (%s, 'a', 100000)", (account,))
        conn.execute("INSERT INTO sites (id, account_id, name, domain) VALUES (%s, %s, 's', 'd')", (site, account))
        conn.execute("INSERT INTO automation_config (site_id, within_stage_delay, between_stage_delay,"
                     " stage_1_batch_size, stage_3_batch_size, ai_concurrency) VALUES (%s, 0, 0, 20, %s, 4)",
                     (site, batch_size))
        for keyword in keyword_set():
            conn.execute("INSERT INTO keywords (id, site_id, keyword, keyword_norm) VALUES (%s, %s, %s, %s)",
                         (str(uuid.uuid4()), site, keyword, keyword))
    run_id = str(uuid.uuid4())
    assert handlers.handle(StartRun(site_id=site, account_id=account, run_id=run_id)).outcome == "accepted"

    await run_worker.execute(run_id, StopFlag())

    run = store.get(uuid.UUID(run_id))
    assert run.status == "completed"
    ideas = run.stage_results[str(IDEAS_TO_TASKS)]["items_total"]
    assert ideas > batch_size  # more than one batch's worth, or the test proves nothing
    sizes = [event.data["item_count"] for event in store.events.get(uuid.UUID(run_id))
             if type(event).__name__ == "BatchStarted" and event.data["stage"] == IDEAS_TO_TASKS]
    assert sum(sizes) == ideas
    assert all(size == batch_size for size in sizes[:-1]) and 0 < sizes[-1] <= batch_size, sizes
