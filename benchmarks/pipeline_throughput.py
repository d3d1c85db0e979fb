"""Pipeline throughput at 0 ms AI, end to end: run_now until the read models show every run
completed, for the shipped sample site alone, for 20 small sites (30 keywords) at once with
one pipeline process and with two, and for 20 sites the sample's size at once with two, with
the CPU time every process of the stack spent per item and the machine's state meanwhile.

At zero AI latency what is measured is the pipeline's own cost per item: Kafka, event
store, output rows, outbox relay, projection, API.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from benchmarks import cpu
from benchmarks.figures import CORES, Figure, Measurement
from benchmarks.fixtures import items_of, site_with_keywords
from benchmarks.session import Session
from tests.support.client import Api, Tenant
from tests.support.stack import Stack

SITES = 20
# A pass takes about 2 s on a VM whose speed wanders within minutes, and two passes of a run
# can fall in one slow spell (1,544 / 1,350 / 1,303 items/s in one run): the median of five.
PASSES = 5
KEYWORDS_PER_SITE = 30  # of the 20 small sites; the single site gets the whole sample (~300)
# 20 sites the size of the sample site: a pass is ~26,000 items, 13-20 s, so three passes.
SAMPLE_SITE_PASSES = 3
CPU_NOTE = "api + pipeline + projector + their PostgreSQL backends; Kafka broker not counted"


def _stack(session: Session):
    return session.stack("zero", OFFLINE_AI_LATENCY_MS="0")


def _wait_all(api: Api, runs: list[tuple[Tenant, str]], timeout: float, interval: float) -> tuple[list[dict], bool]:
    """Every run as last seen, and whether all finished (completed, failed or cancelled).

    One run is polled at a time, in turn: the end is then seen within ``interval`` of the
    last run finishing, at a cost of one request per interval, however many runs there are.
    Each request is API CPU that counts in the figure and is taken from the run it measures:
    hence 50 ms, not less."""
    deadline = time.monotonic() + timeout
    seen: dict[str, dict[str, Any]] = {}
    for tenant, run_id in runs:
        while True:
            seen[run_id] = api.run(tenant, run_id)
            if seen[run_id]["status"] in ("completed", "failed", "cancelled"):
                break
            if time.monotonic() > deadline:
                return list(seen.values()), False
            time.sleep(interval)
    return list(seen.values()), True


@dataclass(frozen=True)
class _Pass:
    items: int
    wall: float
    service: float
    backends: float
    machine: cpu.MachineTimes
    statuses: tuple[str, ...]
    finished: bool

    @property
    def rate(self) -> float:
        return self.items / self.wall


def _one_pass(stack: Stack, tenants: list[Tenant], timeout: float, interval: float) -> _Pass:
    api = Api(stack.base_url)
    # Each site's customer has a client of its own before the clock starts, as a real one
    # would: making an httpx client costs ~40 ms of CPU (its TLS context), and 20 of them
    # made inside the clock were ~0.8 s of this process's CPU taken from the runs measured.
    customers = [(Api(stack.base_url), tenant) for tenant in tenants]
    try:
        before, machine = cpu.snapshot(stack), cpu.MachineTimes.now()
        started = time.perf_counter()
        # Every site's run_now at once: one request in flight per site.
        with ThreadPoolExecutor(max_workers=len(customers)) as pool:
            run_ids = list(pool.map(lambda customer: customer[0].start_run(customer[1]), customers))
        runs, finished = _wait_all(api, list(zip(tenants, run_ids)), timeout, interval)
        wall = time.perf_counter() - started
        machine = cpu.MachineTimes.now() - machine
        service, backends = cpu.spent(before, cpu.snapshot(stack))
    finally:
        for client in (api, *(client for client, _ in customers)):
            client.http.close()
    return _Pass(sum(items_of(run) for run in runs), wall, service, backends, machine,
                 tuple(sorted({run["status"] for run in runs})), finished)


def _throughput(session: Session, label: str, sites: int, new_sites: Callable[[], list[Tenant]],
                timeout: float, interval: float, key_suffix: str = "", passes_wanted: int = PASSES) -> list[Figure]:
    stack = _stack(session)
    # Each pass runs on sites of its own, made before its clock starts.
    passes = [_one_pass(stack, new_sites(), timeout, interval) for _ in range(passes_wanted)]
    middle = sorted(passes, key=lambda p: p.rate)[len(passes) // 2]
    items = sum(p.items for p in passes)
    service, backends = sum(p.service for p in passes), sum(p.backends for p in passes)
    finished = all(p.finished for p in passes)
    machine = sum((p.machine for p in passes), cpu.MachineTimes(0, 0, 0))
    busy, steal = machine.busy_cores(CORES), machine.steal_share()
    note = (f"median of {len(passes)} passes ({', '.join(f'{p.rate:.0f}' for p in passes)} items/s); "
            f"{sites} run(s), {middle.items} items, {middle.wall:.1f} s, status {'/'.join(middle.statuses)}; "
            f"machine during the passes: {busy:.2f} of {CORES} cores busy, {steal:.0%} stolen")
    if not finished:
        note += f"; a pass NOT FINISHED within {timeout:.0f} s: rate of the items done so far"
    extra = {"items": middle.items, "wall_s": middle.wall, "runs": sites, "finished": finished,
             "items_per_s_each_pass": [round(p.rate, 1) for p in passes],
             "cpu_s_services": round(service, 2), "cpu_s_postgres": round(backends, 2),
             "machine_busy_cores": round(busy, 2), "machine_steal_share": round(steal, 3)}
    key = f"{sites}_site" + ("s" if sites > 1 else "") + key_suffix
    session.results[f"pipeline.items_per_s.{key}"] = middle.rate
    return [
        Figure(f"pipeline.items_per_s.{key}", f"pipeline 0 ms AI, {label}: items/s end to end",
               round(middle.rate, 1), "items/s", len(passes), note, extra=extra),
        Figure(f"pipeline.cpu_ms_per_item.{key}", f"pipeline 0 ms AI, {label}: CPU per item",
               round((service + backends) / items * 1000, 2) if items else "n/a (no items)", "CPU-ms/item",
               len(passes), f"{CPU_NOTE}; over all {len(passes)} passes: services {service:.1f} s + "
               f"PostgreSQL {backends:.1f} s for {items} items", extra=extra),
    ]


def _sample_site(session: Session) -> Callable[[], list[Tenant]]:
    api = Api(_stack(session).base_url)
    return lambda: [site_with_keywords(api, None)]


def _twenty_sites(session: Session, keywords: int | None = KEYWORDS_PER_SITE) -> Callable[[], list[Tenant]]:
    api = Api(_stack(session).base_url)
    return lambda: [site_with_keywords(api, keywords) for _ in range(SITES)]


def one_site(session: Session) -> list[Figure]:
    return _throughput(session, "sample site (~300 keywords)", 1, _sample_site(session),
                       timeout=240, interval=0.05)


def twenty_sites(session: Session) -> list[Figure]:
    return _throughput(session, f"{SITES} sites × {KEYWORDS_PER_SITE} keywords at once", SITES,
                       _twenty_sites(session), timeout=240, interval=0.05)


def _assignments(stack: Stack, label: str) -> int:
    """How many partition assignments the process has logged (one per rebalance it joined)."""
    log = stack.log_path(label)
    return log.read_text(errors="replace").count("assigned to partitions") if log.exists() else 0


def _wait_assignments(stack: Stack, label: str, more_than: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while _assignments(stack, label) <= more_than:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{label} took no partitions in {timeout:.0f} s")
        time.sleep(0.1)


def _with_second_pipeline(session: Session, measure: Callable[[], list[Figure]]) -> list[Figure]:
    """``measure`` with a second pipeline process in the consumer group: how operators scale
    the pipeline past one process (and one GIL), and what `make up` runs on a 2-core machine
    (a pipeline process per core). Both share its 2 cores."""
    stack = _stack(session)
    seen = _assignments(stack, "pipeline")
    stack.start_process("pipeline2", "services.pipeline")
    try:
        _wait_assignments(stack, "pipeline2", 0)
        _wait_assignments(stack, "pipeline", seen)  # the first process took its share after the join
        return measure()
    finally:
        # Back to one process for the figures after this one: it leaves the group, the first
        # takes every partition again.
        seen = _assignments(stack, "pipeline")
        stack.kill("pipeline2", signal.SIGTERM)
        _wait_assignments(stack, "pipeline", seen)


TWO_PIPELINES = "2 pipeline processes as `make up` runs on 2 cores"


def twenty_sites_two_pipelines(session: Session) -> list[Figure]:
    label = f"{SITES} sites × {KEYWORDS_PER_SITE} keywords, {TWO_PIPELINES}"
    return _with_second_pipeline(session, lambda: _throughput(
        session, label, SITES, _twenty_sites(session), timeout=240, interval=0.05, key_suffix=".2_pipelines"))


def twenty_sample_sites_two_pipelines(session: Session) -> list[Figure]:
    """20 sites each the size of the sample site: the single site's load, twenty times at once.
    Each run's fixed costs (admission, seven stage starts and ends, the run's projection) are
    spread over ~1,300 items instead of ~145."""
    label = f"{SITES} sample sites (~300 keywords each) at once, {TWO_PIPELINES}"
    return _with_second_pipeline(session, lambda: _throughput(
        session, label, SITES, _twenty_sites(session, None), timeout=480, interval=0.05,
        key_suffix=".sample.2_pipelines", passes_wanted=SAMPLE_SITE_PASSES))


MEASUREMENTS = [
    Measurement("pipeline, 1 site", one_site, [
        ("pipeline.items_per_s.1_site", "pipeline 0 ms AI, sample site: items/s end to end", "items/s"),
        ("pipeline.cpu_ms_per_item.1_site", "pipeline 0 ms AI, sample site: CPU per item", "CPU-ms/item"),
    ]),
    Measurement(f"pipeline, {SITES} sites", twenty_sites, [
        (f"pipeline.items_per_s.{SITES}_sites", f"pipeline 0 ms AI, {SITES} sites: items/s end to end", "items/s"),
        (f"pipeline.cpu_ms_per_item.{SITES}_sites", f"pipeline 0 ms AI, {SITES} sites: CPU per item", "CPU-ms/item"),
    ]),
    Measurement(f"pipeline, {SITES} sites, 2 pipeline processes", twenty_sites_two_pipelines, [
        (f"pipeline.items_per_s.{SITES}_sites.2_pipelines",
         f"pipeline 0 ms AI, {SITES} sites, 2 pipeline processes: items/s end to end", "items/s"),
        (f"pipeline.cpu_ms_per_item.{SITES}_sites.2_pipelines",
         f"pipeline 0 ms AI, {SITES} sites, 2 pipeline processes: CPU per item", "CPU-ms/item"),
    ]),
    Measurement(f"pipeline, {SITES} sample sites, 2 pipeline processes", twenty_sample_sites_two_pipelines, [
        (f"pipeline.items_per_s.{SITES}_sites.sample.2_pipelines",
         f"pipeline 0 ms AI, {SITES} sample sites, 2 pipeline processes: items/s end to end", "items/s"),
        (f"pipeline.cpu_ms_per_item.{SITES}_sites.sample.2_pipelines",
         f"pipeline 0 ms AI, {SITES} sample sites, 2 pipeline processes: CPU per item", "CPU-ms/item"),
    ]),
]
