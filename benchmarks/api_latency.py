"""Latency of the API's hottest read and of run admission, through real processes.

Starts its own stack (api + pipeline + projector on a fresh database and private Kafka
topics, offline AI), then measures from HTTP clients on this machine:

- ``GET current_run``: a site whose run is active (so the answer carries a whole Run),
  read ``--requests`` times by ``--clients`` concurrent clients after a warm-up;
- ``POST run_now``: ``--sites`` sites with a handful of keywords each, each asked to run
  once, by ``--clients`` concurrent clients. Each answer is the pipeline's admission
  decision: HTTP → Kafka → pipeline (event store, credit reservation) → PostgreSQL
  notification → HTTP, plus waiting until the projector shows the run. The API's
  ``Server-Timing`` header splits the two, and both parts are reported. The runs admitted
  go on working (default config), so later admissions meet a busy pipeline and projector.

Prints p50 / p90 / p99 / max and throughput with rich. Timing is not asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Sequence

import httpx
from rich.console import Console
from rich.table import Table

from tests.support.client import Api, Tenant
from tests.support.keywords import keyword_set
from tests.support.stack import Stack, drop_database

console = Console()
if not console.is_terminal:
    console.width = 120  # a piped report keeps whole rows


@dataclass
class Result:
    name: str
    clients: int
    seconds: list[float]
    wall: float
    failures: int
    server_timings: list[str] = field(default_factory=list)

    def part(self, metric: str, name: str) -> "Result":
        """The share of the answers' time the server reports as ``metric`` (Server-Timing)."""
        seconds = [_duration(header, metric) / 1000 for header in self.server_timings]
        return Result(name, self.clients, seconds, self.wall, self.failures)

    def row(self) -> list[str]:
        cuts = statistics.quantiles(self.seconds, n=100, method="inclusive")
        ms = [f"{value * 1000:.1f}" for value in (cuts[49], cuts[89], cuts[98], max(self.seconds))]
        return [self.name, str(len(self.seconds)), str(self.clients), *ms,
                f"{len(self.seconds) / self.wall:.0f}", str(self.failures)]


def measure(name: str, calls: Sequence[Callable[[httpx.Client], httpx.Response]], clients: int,
            base_url: str, ok: int) -> Result:
    """Run ``calls`` spread over ``clients`` threads, each with its own connection."""
    local = [httpx.Client(base_url=base_url, timeout=60) for _ in range(clients)]
    shares = [calls[i::clients] for i in range(clients)]

    def work(index: int) -> tuple[list[float], int, list[str]]:
        times, failures, timings = [], 0, []
        for call in shares[index]:
            started = time.perf_counter()
            answer = call(local[index])
            times.append(time.perf_counter() - started)
            failures += answer.status_code != ok
            if "server-timing" in answer.headers:
                timings.append(answer.headers["server-timing"])
        return times, failures, timings

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        outcomes = list(pool.map(work, range(clients)))
    wall = time.perf_counter() - started
    for client in local:
        client.close()
    return Result(name, clients, [t for o in outcomes for t in o[0]], wall, sum(o[1] for o in outcomes),
                  [h for o in outcomes for h in o[2]])


def _duration(header: str, metric: str) -> float:
    """``dur`` of ``metric`` in a Server-Timing header such as ``decide;dur=12.0, project;dur=3.1``."""
    for entry in header.split(","):
        name, _, params = entry.strip().partition(";")
        if name == metric:
            return float(params.split("dur=")[1].split(";")[0])
    raise ValueError(f"no {metric} in {header!r}")


def _get_current_run(tenant: Tenant) -> Callable[[httpx.Client], httpx.Response]:
    headers = {"Authorization": f"Bearer {tenant.token}"}
    return lambda http: http.get("/api/v1/automation/current_run", params={"site_id": tenant.site_id},
                                 headers=headers)


def _post_run_now(tenant: Tenant) -> Callable[[httpx.Client], httpx.Response]:
    headers = {"Authorization": f"Bearer {tenant.token}"}
    return lambda http: http.post("/api/v1/automation/run_now", params={"site_id": tenant.site_id},
                                  headers=headers)


def bench_current_run(api: Api, base_url: str, requests: int, clients: int) -> Result:
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=1))
    api.configure(tenant, within_stage_delay=0, between_stage_delay=3600)  # stays active after stage 1
    run_id = api.run_now(tenant).json()["run_id"]
    api.wait_run(tenant, run_id, lambda run: "1" in run["stage_results"])
    call = _get_current_run(tenant)
    measure("warm-up", [call] * 100, clients, base_url, 200)
    return measure("GET current_run (active run)", [call] * requests, clients, base_url, 200)


def bench_run_now(api: Api, base_url: str, sites: int, clients: int) -> Result:
    words = keyword_set(topics=1)
    tenants = []
    for index in range(sites):
        owner = api.tenant() if index % 10 == 0 else api.tenant(account_id=tenants[-1].account_id)
        api.import_keywords(owner, words)
        tenants.append(owner)
    measure("warm-up", [_get_current_run(t) for t in tenants], clients, base_url, 200)
    return measure("POST run_now (admission)", [_post_run_now(t) for t in tenants], clients, base_url, 202)


def report(results: list[Result]) -> None:
    table = Table(title="API latency (ms), real api + pipeline + projector, PostgreSQL, Kafka, offline AI")
    for column in ("measurement", "requests", "clients", "p50", "p90", "p99", "max", "req/s", "non-2xx"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    for result in results:
        table.add_row(*result.row())
    console.print(table)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.api_latency", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="GET current_run requests (default 2000)")
    parser.add_argument("--sites", type=int, default=100, help="sites asked to run_now once each (default 100)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients (default 4)")
    args = parser.parse_args(argv)
    with console.status("starting a stack (api, pipeline, projector) on a fresh database…"):
        stack = Stack("bench").start()
    try:
        api = Api(stack.base_url)
        with console.status(f"GET current_run × {args.requests}…"):
            reads = bench_current_run(api, stack.base_url, args.requests, args.clients)
        with console.status(f"run_now on {args.sites} sites…"):
            admissions = bench_run_now(api, stack.base_url, args.sites, args.clients)
        report([reads, admissions,
                admissions.part("decide", "  of which: pipeline decision"),
                admissions.part("project", "  of which: read model catch-up")])
    finally:
        stack.stop()
        drop_database(stack.database)


if __name__ == "__main__":
    main()
