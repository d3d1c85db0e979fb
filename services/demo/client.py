"""The demo's story, told through the HTTP API: whichever serves it, in this process
(embedded) or the running services (``--external``).

An admin creates the sample account, site and owner token; the owner imports the
keywords, sets a config without delays, asks for ``run_now`` and watches the run.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
from rich.console import Console

from services.demo.progress import StageProgress
from services.demo.sample import DEMO_CONFIG, SAMPLE_CREDITS, sample_keywords

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Tenant:
    account_id: str
    site_id: str
    token: str
    keywords: int
    credits: int


class Client:
    def __init__(self, http: httpx.AsyncClient, admin_token: str) -> None:
        self.http = http
        self.admin_token = admin_token
        self.token = ""

    async def call(self, method: str, path: str, admin: bool = False, expect: int = 200, **kwargs: Any) -> Any:
        token = self.admin_token if admin else self.token
        answer = await self.http.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        if answer.status_code != expect:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        json_body = answer.headers.get("content-type", "").startswith("application/json")
        return answer.json() if json_body else answer.content


async def create_tenant(client: Client, keyword_limit: int | None) -> Tenant:
    account = await client.call("POST", "/api/v1/admin/accounts", admin=True, expect=201,
                                json={"name": "Demo Coffee Co.", "credits": SAMPLE_CREDITS})
    accounts = f"/api/v1/admin/accounts/{account['id']}"
    site = await client.call("POST", f"{accounts}/sites", admin=True, expect=201,
                             json={"name": "Demo coffee blog", "domain": "coffee.example"})
    token = await client.call("POST", f"{accounts}/tokens", admin=True, expect=201, json={"role": "owner"})
    client.token = token["token"]
    keywords = [{"keyword": k.keyword, "volume": k.volume, "difficulty": k.difficulty, "intent": k.intent}
                for k in sample_keywords(keyword_limit)]
    imported = await client.call("POST", f"/api/v1/sites/{site['id']}/keywords", expect=201,
                                 json={"keywords": keywords})
    await client.call("PUT", "/api/v1/automation/config", params={"site_id": site["id"]}, json=DEMO_CONFIG)
    return Tenant(account["id"], site["id"], client.token, imported["created"], SAMPLE_CREDITS)


async def run_to_end(client: Client, site_id: str, console: Console, check: Any = None) -> dict[str, Any]:
    """Start a run and draw its progress until it is no longer running; returns the Run.
    ``check`` is called on every poll, to stop waiting on a stack that failed."""
    run_id = (await client.call("POST", "/api/v1/automation/run_now", params={"site_id": site_id},
                                expect=202))["run_id"]
    with StageProgress(console) as bars:
        while (run := await client.call("GET", f"/api/v1/automation/runs/{run_id}"))["status"] == "running":
            bars.update(run)
            if check is not None:
                check()
            await asyncio.sleep(POLL_SECONDS)
        bars.update(run)
    return run
