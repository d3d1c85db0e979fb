"""The shared AI rate limit under load: two processes, two accounts, one limit.

Two OS processes each build the pipeline's provider as its composition root does
(``limit_rate(build_ai_provider(settings), settings, pool)``: the real OpenAI adapter behind
the PostgreSQL limiter) and keep ``callers`` AI calls in flight for their account, against
the local fake OpenAI server, with AI_REQUESTS_PER_MINUTE at ``limit_per_minute``. The limit
holds if the busiest 10 s window stays within 5 % of it.

Each request is counted twice: when the limiter let it go (stamped in the client process, just
behind the limiter) and when the fake server saw it arrive. CLOCK_MONOTONIC is one clock for
every process of the machine, so both sets of stamps share a time line. The figure is the
sends': the fake runs in a thread of this process, and a stall of its own (a busy core, a
slow disk) stamps the requests that queued meanwhile together, a burst the clients never
sent. The arrivals' figure is printed beside it; far apart, one of the two was held up.

``stall`` reproduces a machine that stops for a moment: every ``STALL_EVERY`` seconds both
client processes are stopped (SIGSTOP) for ``stall`` seconds, with their calls' slots granted.

    python -m benchmarks.rate_limit [--stall 1.5]   # or: highest_rate_per_minute() from make bench
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from tests.support.fake_openai import FakeOpenAI
from tests.support.stack import SESSION, drop_database, migrated_database
from tests.support.windows import most_in_a_window

WINDOW_SECONDS = 10.0
STARTUP_SECONDS = 120.0  # at most, for the processes to start, on a busy machine
STALL_EVERY = 7.0  # seconds between two stalls, when asked for


@dataclass(frozen=True)
class Busiest:
    """Requests per minute in the busiest 10 s window: as sent, and as the fake saw them arrive."""

    sent: float
    arrived: float


def highest_rate_per_minute(limit_per_minute: int = 600, seconds: float = 30.0, callers: int = 8,
                            processes: int = 2) -> float:
    """Requests per minute in the busiest 10 s window of the calls the limiter let go."""
    return busiest_windows(limit_per_minute, seconds, callers, processes).sent


def busiest_windows(limit_per_minute: int = 600, seconds: float = 30.0, callers: int = 8, processes: int = 2,
                    stall: float = 0.0) -> Busiest:
    database = f"automation_bench_rate_limit_{SESSION}"
    url = migrated_database(database)
    try:
        with FakeOpenAI() as fake:
            spawn = multiprocessing.get_context("spawn")
            ready = spawn.Barrier(processes + 1, timeout=STARTUP_SECONDS)
            sends = spawn.Queue()
            workers = [
                spawn.Process(target=_client,
                              args=(url, fake.base_url, limit_per_minute, callers, n, ready, seconds, sends))
                for n in range(processes)
            ]
            for worker in workers:
                worker.start()
            ready.wait()
            started = time.monotonic()
            done = threading.Event()
            stalls = threading.Thread(target=_stall, args=([w.pid for w in workers], stall, done), daemon=True)
            if stall > 0:
                stalls.start()
            try:
                sent = [at for _ in workers for at in sends.get(timeout=seconds + 60) if at >= started]
            finally:
                done.set()
                if stall > 0:
                    stalls.join()
            for worker in workers:
                worker.join(timeout=60)
            arrived = [r.at for r in fake.requests if r.at >= started]
        return Busiest(_per_minute(sent), _per_minute(arrived))
    finally:
        drop_database(database)


def _per_minute(times: list[float]) -> float:
    return most_in_a_window(times, WINDOW_SECONDS) * 60 / WINDOW_SECONDS


def _stall(pids: list[int], seconds: float, done: threading.Event) -> None:
    while not done.wait(STALL_EVERY):
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)


def _client(url: str, base_url: str, limit: int, callers: int, account: int, ready: Any, seconds: float,
            sends: Any) -> None:
    sends.put(asyncio.run(_calls(url, base_url, limit, callers, account, ready, seconds)))


class _SendTimes:
    """The provider behind the limiter, noting when each call got past it."""

    def __init__(self, inner: Any) -> None:
        self.name = inner.name
        self.times: list[float] = []
        self._inner = inner

    async def generate_ideas(self, cluster: Any) -> Any:
        self.times.append(time.monotonic())
        return await self._inner.generate_ideas(cluster)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def _calls(url: str, base_url: str, limit: int, callers: int, account: int, ready: Any,
                 seconds: float) -> list[float]:
    from services.pipeline.adapters.ai import build_ai_provider, limit_rate
    from services.pipeline.application.ai_port import ClusterInput
    from shared.infra.db import create_pool
    from shared.infra.settings import Settings

    settings = Settings(database_url=url, ai_provider="openai", openai_base_url=base_url, openai_api_key="sk-bench",
                        ai_requests_per_minute=limit)
    pool = await create_pool(url, max_size=4)
    provider = _SendTimes(build_ai_provider(settings))
    ai = limit_rate(provider, settings, pool)  # type: ignore[arg-type]
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
    return provider.times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.rate_limit")
    parser.add_argument("--limit", type=int, default=600, help="AI_REQUESTS_PER_MINUTE")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--stall", type=float, default=0.0,
                        help=f"stop both client processes this long every {STALL_EVERY:.0f} s")
    args = parser.parse_args(argv)
    busiest = busiest_windows(args.limit, args.seconds, stall=args.stall)
    stalled = f", stopped {args.stall:g} s every {STALL_EVERY:g} s" if args.stall else ""
    print(f"rate limit: 2 processes, 2 accounts, limit {args.limit} requests/min{stalled}: busiest 10 s window "
          f"{busiest.sent:.0f} requests/min sent ({busiest.sent / args.limit:.1%} of the limit), "
          f"{busiest.arrived:.0f} arrived at the fake ({busiest.arrived / args.limit:.1%})")


if __name__ == "__main__":
    main()
