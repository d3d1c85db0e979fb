"""``automation demo --external``: the same story on PostgreSQL and Kafka, through the real services.

Needs them running (``make up``, which also runs ``make services``). The demo is then only
an API client over HTTP, as the embedded demo is over its in-process app:
HTTP → Kafka → pipeline (PostgreSQL event store) → outbox → Kafka → projector → HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import httpx
from rich.console import Console

from services.demo.client import Client, create_tenant, run_to_end
from services.demo.outputs import slug
from services.demo.summary import Outputs, print_summary
from shared.infra.settings import Settings, get_settings


def base_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::") else settings.api_host
    return f"http://{host}:{settings.api_port}"


def run_external(args: argparse.Namespace, console: Console, settings: Settings | None = None) -> int:
    return asyncio.run(_run_external(args, console, settings or get_settings()))


async def _run_external(args: argparse.Namespace, console: Console, settings: Settings) -> int:
    async with httpx.AsyncClient(base_url=base_url(settings), timeout=30) as http:
        client = Client(http, settings.automation_admin_token.get_secret_value())
        try:
            ready = (await http.get("/readyz")).status_code == 200
        except httpx.HTTPError:
            ready = False
        if not ready:
            console.print(f"[red]{http.base_url} is not ready.[/red] Start the services first: [bold]make up[/bold]"
                          " (PostgreSQL, Kafka and every process), then run `automation demo --external` again.")
            return 2
        started = time.monotonic()
        tenant = await create_tenant(client, getattr(args, "keywords", None))
        console.print(f"Sample account {tenant.account_id} with {tenant.credits} credits; site {tenant.site_id}"
                      f" with {tenant.keywords} keywords. Its owner token: {tenant.token}")
        run = await run_to_end(client, tenant.site_id, console)
        out_dir = Path(getattr(args, "output", None) or "demo-output")
        print_summary(console, run, time.monotonic() - started, await describe(client, tenant.site_id, out_dir))
    return 0 if run["status"] == "completed" else 1


async def describe(client: Client, site_id: str, out_dir: Path) -> Outputs:
    outputs = Outputs()
    sites = f"/api/v1/sites/{site_id}"
    totals = {kind: (await client.call("GET", f"{sites}/{kind}", params={"limit": 1}))["total"]
              for kind in ("keywords", "clusters", "ideas", "tasks", "content", "images")}
    outputs.samples.append(("counts", ", ".join(f"{n} {kind}" for kind, n in totals.items())))
    clusters = (await client.call("GET", f"{sites}/clusters", params={"limit": 5}))["items"]
    outputs.samples.append(("first clusters", "; ".join(c["name"] for c in clusters)))
    outputs.places.append(("the API", f"{client.http.base_url}/docs (site {site_id}, owner token above)"))
    articles = (await client.call("GET", f"{sites}/content", params={"limit": 1}))["items"]
    if articles:
        first = articles[0]
        outputs.samples.append(("first article", f"\"{first['title']}\" ({first['word_count']} words, {first['status']})"))
        images = (await client.call("GET", f"{sites}/images", params={"limit": 500}))["items"]
        featured = next((i for i in images if i["content_id"] == first["id"] and i["kind"] == "featured"
                         and i["status"] == "generated"), None)
        if featured is not None:
            png = out_dir / "images" / f"{slug(first['title'])}-featured.png"
            png.parent.mkdir(parents=True, exist_ok=True)
            png.write_bytes(await client.call("GET", f"{sites}/images/{featured['id']}/file"))
            outputs.places.append(("its featured image", str(png)))
    return outputs
