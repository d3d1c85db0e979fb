"""`automation demo --serve` answers every read of CONTRACT §3 as `make up`'s services do.

"For the same data": the demo runs on its embedded PostgreSQL and serves its app (the
real API in-process, commands through the in-process bus); then a stack of real api,
pipeline and projector processes, with Kafka, is started on that very database. Every
read (admin excluded: it only writes) goes to both and must get the same status and
body. Only /readyz differs by design, in its body: the embedded app has no Kafka to ask.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from services.demo.embedded import EmbeddedStack
from services.demo.main import DemoResult, run_embedded
from services.demo.serve import DemoServer
from tests.support.stack import Stack, free_port

pytestmark = pytest.mark.e2e
KINDS = ("keywords", "clusters", "ideas", "tasks", "content", "images")


def reads(site_id: str, run_id: str) -> list[str]:
    site, auto = f"site_id={site_id}", "/api/v1/automation"
    return [
        "/healthz", "/openapi.json",
        f"{auto}/config?{site}", f"{auto}/estimate?{site}", f"{auto}/pipeline_overview?{site}",
        f"{auto}/current_run?{site}", f"{auto}/current_processing?{site}",
        f"{auto}/history?{site}", f"{auto}/history?{site}&limit=1&offset=0",
        f"{auto}/runs/{run_id}", f"{auto}/runs/{run_id}/events",
        f"{auto}/runs/{run_id}?as_of=2100-01-01T00:00:00Z", f"{auto}/runs/{run_id}?as_of=2000-01-01T00:00:00Z",
        f"{auto}/logs?run_id={run_id}", f"{auto}/logs?run_id={run_id}&lines=5",
        *(f"/api/v1/sites/{site_id}/{kind}" for kind in KINDS),
        *(f"/api/v1/sites/{site_id}/{kind}?limit=3&offset=2" for kind in KINDS),
        # the contract's errors are part of what a read answers
        f"{auto}/runs/no-such-run", f"{auto}/history?{site}&limit=0", "/api/v1/sites/no-such-site/keywords",
        f"{auto}/logs?run_id={run_id}&lines=abc",
    ]


async def answers(base_url: str, token: str, paths: list[str]) -> dict[str, tuple[int, object]]:
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=auth, timeout=30) as http:
        return {path: ((r := await http.get(path)).status_code, r.json()) for path in paths}


async def wait_until_done(http: httpx.AsyncClient, run_id: str) -> dict[str, object]:
    for _ in range(300):
        run = (await http.get(f"/api/v1/automation/runs/{run_id}")).json()
        if run["status"] != "running":
            return run
        await asyncio.sleep(0.1)
    raise TimeoutError(run_id)


async def compare_with_services(stack: EmbeddedStack, demo: DemoResult) -> None:
    tenant, run_id = demo.tenant, demo.run["run_id"]
    served = DemoServer(stack.app, "127.0.0.1", free_port())
    await served.start()
    services = Stack("demoserve", DATABASE_URL=stack.settings.database_url)
    try:
        await asyncio.to_thread(services.__enter__)
        paths = reads(tenant.site_id, run_id)
        embedded, real = await answers(served.url, tenant.token, paths), await answers(services.base_url, tenant.token, paths)
        for path in paths:
            assert embedded[path] == real[path], path
        assert embedded[f"/api/v1/automation/runs/{run_id}"][1]["status"] == "completed"  # not two empty answers
        for url in (served.url, services.base_url):  # async: the served app answers on this loop
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                assert (await http.get("/readyz")).status_code == 200
                history = await http.get("/api/v1/automation/history", params={"site_id": tenant.site_id})
                assert history.status_code == 401

        # Commands work on the served app too, and the services see what they did.
        auth = {"Authorization": f"Bearer {tenant.token}"}
        async with httpx.AsyncClient(base_url=served.url, headers=auth, timeout=30) as http:
            started = await http.post("/api/v1/automation/run_now", params={"site_id": tenant.site_id})
            assert started.status_code == 202, started.text
            second = started.json()["run_id"]
            assert (await wait_until_done(http, second))["status"] == "completed"
            refused = await http.post("/api/v1/automation/pause", params={"run_id": second})
            assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_transition"
        paths = reads(tenant.site_id, second)
        assert await answers(served.url, tenant.token, paths) == await answers(services.base_url, tenant.token, paths)
    finally:
        await asyncio.to_thread(services.__exit__)
        await served.stop()


async def test_demo_serve_answers_every_read_as_the_services_do(tmp_path: Path) -> None:
    result = await run_embedded(tmp_path, Console(file=io.StringIO(), width=120), keyword_limit=15,
                                after=compare_with_services)
    assert result.run["status"] == "completed"
