"""Replay speed: ``automation replay``'s rebuild of the read models over a store of at least
100,000 events, in events per second.

The store is filled with whole runs built by the AutomationRun aggregate as the pipeline
would record them (every stage started, batches announced and recorded with their credits,
review-ready articles, completion), saved through the event store (RunStore.save), then
copied in SQL under new run ids until there are enough: seconds, where running the
pipeline for as many events would take many minutes. (The copies' hash chains name the
original run, which the replay does not check; `automation audit verify` would.)
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timezone

from benchmarks.figures import Figure, Measurement
from benchmarks.store_append import new_run
from services.operations.replay import replay
from services.pipeline.adapters.event_store import RunStore
from services.pipeline.domain.run import AutomationRun
from shared.infra.settings import Settings
from shared.stages import STAGES
from tests.support.stack import SESSION, drop_database, migrated_database

EVENTS = 100_000
BATCHES_PER_STAGE = 12
ITEMS_PER_BATCH = 5
RUNS_SAVED = 20

# Each copy of a run gets one new id; ordered so that a run's events stay in order in the
# notification log, as the replay reads it.
_COPY_RUNS = """
INSERT INTO automation_events (originator_id, originator_version, topic, state)
SELECT m.new_id, e.originator_version, e.topic, e.state
FROM (SELECT o.originator_id, gen_random_uuid() AS new_id
      FROM (SELECT DISTINCT originator_id FROM automation_events) o, generate_series(1, %s)) m
JOIN automation_events e USING (originator_id)
ORDER BY m.new_id, e.originator_version
"""


def whole_run() -> AutomationRun:
    """A completed run of every stage, some 250 events."""
    run = new_run()
    for stage in STAGES:
        now = datetime.now(timezone.utc)
        run.start_stage(stage.number, BATCHES_PER_STAGE * ITEMS_PER_BATCH, now)
        for _ in range(BATCHES_PER_STAGE):
            items = [{"id": str(uuid.uuid4()), "title": f"Espresso guide {n}"} for n in range(ITEMS_PER_BATCH)]
            batch_id = str(uuid.uuid4())
            run.start_batch(stage.number, items, batch_id, now)
            review = [(i["id"], i["title"]) for i in items] if stage.number == STAGES[-1].number else []
            run.process_batch(batch_id=batch_id, stage=stage.number, processed=len(items), failures=[],
                              outputs_created=len(items), credits=stage.credits_per_unit * len(items), now=now,
                              ready_for_review=review)
        run.complete_stage(stage.number, now)
    run.complete(datetime.now(timezone.utc))
    return run


def fill(store: RunStore, events: int) -> int:
    """Saves RUNS_SAVED whole runs, then copies them until at least ``events`` are stored."""
    runs = [whole_run() for _ in range(RUNS_SAVED)]
    store.save(*runs)
    saved = sum(run.version for run in runs)
    copies = -(-events // saved) - 1
    with store.cursor() as cur:
        cur.execute(_COPY_RUNS, (copies,))
    return saved * (copies + 1)


def replay_rate(session: object) -> list[Figure]:
    database = f"automation_bench_replay_{SESSION}"
    url = migrated_database(database)
    try:
        settings = Settings(database_url=url)
        store = RunStore.from_settings(settings)
        stored = fill(store, EVENTS)
        started = time.perf_counter()
        applied = asyncio.run(replay(settings, store, on_total=lambda n: None, on_event=lambda n: None))
        seconds = time.perf_counter() - started
        store.close()
    finally:
        drop_database(database)
    note = (f"{applied} events of {applied // whole_run().version} runs rebuilt in {seconds:.1f} s"
            " (services/operations/replay.py in process, as `automation replay` runs it)")
    return [Figure("replay.events_per_s", "replay of the read models", round(applied / seconds), "events/s", 1, note,
                   extra={"events": applied, "stored": stored, "seconds": round(seconds, 2)})]


MEASUREMENTS = [
    Measurement("replay", replay_rate, [("replay.events_per_s", "replay of the read models", "events/s")]),
]
