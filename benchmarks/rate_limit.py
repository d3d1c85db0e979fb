"""The shared AI rate limit under load: two processes, two accounts, one limit.

Two OS processes each build the pipeline's provider as its composition root does
(``limit_rate(build_ai_provider(settings), settings, pool)``: the real OpenAI adapter behind
the PostgreSQL limiter) and keep ``callers`` AI calls in flight for their account, against
the local fake OpenAI server, with AI_REQUESTS_PER_MINUTE at ``limit_per_minute``. The
fake records when each request arrived; the figure is the busiest 10 s window of those
arrivals, as requests per minute. The limit holds if it stays within 5 % of the limit.

    python -m benchmarks.rate_limit            # or: highest_rate_per_minute() from make bench
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from typing import Any

from tests.support.fake_openai import FakeOpenAI
from tests.support.stack import SESSION, drop_database, migrated_database
from tests.support.windows import most_in_a_window

WINDOW_SECONDS = 10.0
STARTUP_SECONDS = 120.0  # at most, for the processes to start, on a busy machine


def highest_rate_per_minute(limit_per_minute: int = 600, seconds: float = 30.0, callers: int = 8,
                            processes: int = 2) -> float:
    """Requests per minute in the busiest 10 s window the provider saw."""
    database = f"automation_bench_rate_limit_{SESSION}"
    url = migrated_database(database)
    try:
        with FakeOpenAI() as fake:
            spawn = multiprocessing.get_context("spawn")
            ready = spawn.Barrier(processes + 1, timeout=STARTUP_SECONDS)
            workers = [
                spawn.Process(target=_client, args=(url, fake.base_url, limit_per_minute, callers, n, ready, seconds))
                for n in range(processes)
            ]
            for worker in workers:
                worker.start()
            ready.wait()
            started = time.monotonic()
            for worker in workers:
                worker.join(timeout=seconds + 60)
            arrivals = [r.at for r in fake.requests if r.at >= started]
        return most_in_a_window(arrivals, WINDOW_SECONDS) * 60 / WINDOW_SECONDS
    finally:
        drop_database(database)


def _client(url: str, base_url: str, limit: int, callers: int, account: int, ready: Any, seconds: float) -> None:
    asyncio.run(_calls(url, base_url, limit, callers, account, ready, seconds))


async def _calls(url: str, base_url: str, limit: int, callers: int, account: int, ready: Any, seconds: float) -> None:
    from services.pipeline.adapters.ai import build_ai_provider, limit_rate
    from services.pipeline.application.ai_port import ClusterInput
    from shared.infra.db import create_pool
    from shared.infra.settings import Settings

    settings = Settings(database_url=url, ai_provider="openai", openai_base_url=base_url, openai_api_key="sk-bench",
                        ai_requests_per_minute=limit)
    pool = await create_pool(url, max_size=4)
    ai = limit_rate(build_ai_provider(settings), settings, pool)
    cluster = ClusterInput(f"account-{account}", "Moka Pot", "Stovetop coffee.", ("moka pot", "moka pot ratio"))

    async def caller() -> None:
        while time.monotonic() < end_at:
            await ai.generate_ideas(cluster)

    try:
        await ai.generate_ideas(cluster)
        ready.wait()
        end_at = time.monotonic() + seconds
        await asyncio.gather(*(caller() for _ in range(callers)))
    finally:
        await ai.aclose()
        await pool.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.rate_limit")
    parser.add_argument("--limit", type=int, default=600, help="AI_REQUESTS_PER_MINUTE")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    rate = highest_rate_per_minute(args.limit, args.seconds)
    print(f"rate limit: 2 processes, 2 accounts, limit {args.limit} requests/min: "
          f"busiest 10 s window {rate:.0f} requests/min ({rate / args.limit:.1%} of the limit)")


if __name__ == "__main__":
    main()
