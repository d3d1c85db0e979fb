"""Ratios measured in the same run as the figures they qualify, so the machine's load of the
moment falls on both sides: the event store against plain INSERTs, and the pipeline
against a plain loop of the same offline AI calls."""

from __future__ import annotations

from benchmarks import ai_loop
from benchmarks.figures import Figure, Measurement, not_available
from benchmarks.session import Session
from benchmarks.store_append import append_rates
from services.pipeline.adapters.event_store import RunStore
from shared.infra.settings import Settings
from tests.support.stack import SESSION, drop_database, migrated_database

APPENDS_PER_ROUND = 60
STORE_KEY = ("ratio.store_append_vs_plain_insert", "event store appends ÷ plain INSERTs (1 row per commit)", "×")
LOOP_KEY = ("ratio.pipeline_vs_plain_ai_loop", "pipeline items/s ÷ plain loop of the same AI calls, 0 ms", "×")


def store_against_insert(session: Session) -> list[Figure]:
    database = f"automation_bench_append_{SESSION}"
    url = migrated_database(database)
    try:
        store = RunStore.from_settings(Settings(database_url=url))
        store_rate, plain_rate, rows = append_rates(store, url, APPENDS_PER_ROUND)
        store.close()
    finally:
        drop_database(database)
    note = (f"RunStore.save of one event {store_rate:.0f}/s, INSERT of one row {plain_rate:.0f}/s;"
            f" {rows} each, alternating rounds")
    extra = {"store_events_per_s": round(store_rate, 1), "plain_inserts_per_s": round(plain_rate, 1)}
    return [
        Figure(STORE_KEY[0], STORE_KEY[1], round(store_rate / plain_rate, 2), STORE_KEY[2], rows, note, extra=extra),
        Figure("store.append_events_per_s", "event store appends, 1 event per commit", round(store_rate),
               "events/s", rows, "same PostgreSQL as the figure above"),
    ]


def plain_ai_loop(session: Session) -> list[Figure]:
    rate, items, wall = ai_loop.items_per_second()
    session.results["ai_loop.items_per_s"] = rate
    return [Figure("ai_loop.items_per_s", "plain loop of the sample's offline AI calls, 0 ms", round(rate, 1),
                   "items/s", 1, f"{items} items in {wall:.1f} s, one process, no I/O")]


def pipeline_against_loop(session: Session) -> list[Figure]:
    pipeline = session.results.get("pipeline.items_per_s.1_site")
    loop = session.results.get("ai_loop.items_per_s")
    if pipeline is None or loop is None:
        return [not_available(*LOOP_KEY, "a figure it divides was not measured")]
    return [Figure(*LOOP_KEY[:2], round(pipeline / loop, 2), LOOP_KEY[2], 1,
                   f"{pipeline:.0f} ÷ {loop:.0f} items/s (sample site)")]


STANDALONE = [
    Measurement("event store against plain INSERTs", store_against_insert, [
        STORE_KEY, ("store.append_events_per_s", "event store appends, 1 event per commit", "events/s")]),
    Measurement("plain AI loop", plain_ai_loop, [
        ("ai_loop.items_per_s", "plain loop of the sample's offline AI calls, 0 ms", "items/s")]),
]
AFTER_PIPELINE = [Measurement("pipeline against the plain AI loop", pipeline_against_loop, [LOOP_KEY])]
