"""run_now's wait for the read model: woken by the projector's NOTIFY of the site, reading the
read model once a wake-up instead of polling it with pooled connections, and still finding
the run by a slow poll when no notification comes (the hub's connection down)."""

from __future__ import annotations

import asyncio

import pytest

from services.api.adapters.queries import runs
from services.api.adapters.stream_hub import StreamHub
from shared.infra.channels import STREAM


class ReadModel:
    """A pool whose run_view has the run once ``projected``; counts the reads."""

    def __init__(self) -> None:
        self.projected = False
        self.reads = 0
        self.read = asyncio.Event()

    async def fetchval(self, _query: str, _run_id: str) -> int | None:
        self.reads += 1
        self.read.set()
        return 1 if self.projected else None


def _commit(hub: StreamHub, site_id: str) -> None:
    hub._notified(None, 0, STREAM, site_id)  # what the hub's LISTEN connection delivers


async def _settle() -> None:
    for _ in range(20):  # let every ready task run
        await asyncio.sleep(0)


async def test_the_wait_reads_again_when_its_site_is_notified_and_only_then(monkeypatch) -> None:
    monkeypatch.setattr(runs, "FALLBACK_POLL_SECONDS", 3600.0)
    hub, model = StreamHub("postgresql://unused"), ReadModel()
    waiter = asyncio.create_task(runs.wait_for_run(model, hub, "site-1", "run-1", timeout=3600.0))
    await asyncio.wait_for(model.read.wait(), 5)

    _commit(hub, "site-2")  # another site's rows
    await _settle()
    assert model.reads == 1 and not waiter.done()

    model.projected = True
    _commit(hub, "site-1")
    assert await asyncio.wait_for(waiter, 5) is True
    assert model.reads == 2


async def test_without_notifications_the_slow_poll_finds_the_run(monkeypatch) -> None:
    monkeypatch.setattr(runs, "FALLBACK_POLL_SECONDS", 0.01)
    hub, model = StreamHub("postgresql://unused"), ReadModel()
    waiter = asyncio.create_task(runs.wait_for_run(model, hub, "site-1", "run-1", timeout=3600.0))
    await asyncio.wait_for(model.read.wait(), 5)
    model.projected = True
    assert await asyncio.wait_for(waiter, 5) is True


@pytest.mark.parametrize("projected", [True, False])
async def test_the_wait_ends_at_its_timeout_or_when_the_run_is_there(projected: bool) -> None:
    model = ReadModel()
    model.projected = projected
    assert await runs.wait_for_run(model, StreamHub("postgresql://unused"), "site-1", "run-1", timeout=0.0) is projected
