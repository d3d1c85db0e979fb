"""``automation demo --external``: the same story on PostgreSQL and Kafka, through the real services.

Needs them running (``make up``, which also runs ``make services``). The demo is then only
an API client: it creates the sample tenant with the admin token, imports the keywords,
asks for ``run_now``, and draws the same progress and summary from ``GET /runs/{id}``:
HTTP → Kafka → pipeline (PostgreSQL event store) → outbox → Kafka → projector → HTTP.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from services.demo.outputs import slug
from services.demo.progress import StageProgress
from services.demo.sample import DEMO_CONFIG, SAMPLE_CREDITS, sample_keywords
from services.demo.summary import Outputs, print_summary
from shared.infra.settings import Settings, get_settings

POLL_SECONDS = 0.2


class Client:
    def __init__(self, base_url: str, admin_token: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.admin_token = admin_token
        self.token = ""

    def call(self, method: str, path: str, admin: bool = False, expect: int = 200, **kwargs: Any) -> Any:
        token = self.admin_token if admin else self.token
        answer = self.http.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        if answer.status_code != expect:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json() if answer.headers.get("content-type", "").startswith("application/json") else answer.content


def base_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::") else settings.api_host
    return f"http://{host}:{settings.api_port}"


def run_external(args: argparse.Namespace, console: Console, settings: Settings | None = None) -> int:
    settings = settings or get_settings()
    client = Client(base_url(settings), settings.automation_admin_token.get_secret_value())
    try:
        ready = client.http.get("/readyz").status_code == 200
    except httpx.HTTPError:
        ready = False
    if not ready:
        console.print(f"[red]{client.http.base_url} is not ready.[/red] Start the services first: [bold]make up[/bold]"
                      " (PostgreSQL, Kafka and every process), then run `automation demo --external` again.")
        return 2
    started = time.monotonic()
    site_id = create_tenant(client, getattr(args, "keywords", None), console)
    run_id = client.call("POST", "/api/v1/automation/run_now", params={"site_id": site_id}, expect=202)["run_id"]
    with StageProgress(console) as bars:
        while (run := client.call("GET", f"/api/v1/automation/runs/{run_id}"))["status"] == "running":
            bars.update(run)
            time.sleep(POLL_SECONDS)
        bars.update(run)
    out_dir = Path(getattr(args, "output", None) or "demo-output")
    print_summary(console, run, time.monotonic() - started, describe(client, site_id, out_dir))
    return 0 if run["status"] == "completed" else 1


def create_tenant(client: Client, keyword_limit: int | None, console: Console) -> str:
    account = client.call("POST", "/api/v1/admin/accounts", admin=True, expect=201,
                          json={"name": "Demo Coffee Co.", "credits": SAMPLE_CREDITS})
    accounts = f"/api/v1/admin/accounts/{account['id']}"
    site = client.call("POST", f"{accounts}/sites", admin=True, expect=201,
                       json={"name": "Demo coffee blog", "domain": "coffee.example"})
    client.token = client.call("POST", f"{accounts}/tokens", admin=True, expect=201, json={"role": "owner"})["token"]
    keywords = [{"keyword": k.keyword, "volume": k.volume, "difficulty": k.difficulty, "intent": k.intent}
                for k in sample_keywords(keyword_limit)]
    imported = client.call("POST", f"/api/v1/sites/{site['id']}/keywords", expect=201, json={"keywords": keywords})
    client.call("PUT", "/api/v1/automation/config", params={"site_id": site["id"]}, json=DEMO_CONFIG)
    console.print(f"Sample account {account['id']} with {SAMPLE_CREDITS} credits; site {site['id']} with"
                  f" {imported['created']} keywords. Its owner token: {client.token}")
    return site["id"]


def describe(client: Client, site_id: str, out_dir: Path) -> Outputs:
    outputs = Outputs()
    sites = f"/api/v1/sites/{site_id}"
    totals = {kind: client.call("GET", f"{sites}/{kind}", params={"limit": 1})["total"]
              for kind in ("keywords", "clusters", "ideas", "tasks", "content", "images")}
    outputs.samples.append(("counts", ", ".join(f"{n} {kind}" for kind, n in totals.items())))
    clusters = client.call("GET", f"{sites}/clusters", params={"limit": 5})["items"]
    outputs.samples.append(("first clusters", "; ".join(c["name"] for c in clusters)))
    outputs.places.append(("the API", f"{client.http.base_url}/docs (site {site_id}, owner token above)"))
    articles = client.call("GET", f"{sites}/content", params={"limit": 1})["items"]
    if articles:
        first = articles[0]
        outputs.samples.append(("first article", f"\"{first['title']}\" ({first['word_count']} words, {first['status']})"))
        images = client.call("GET", f"{sites}/images", params={"limit": 500})["items"]
        featured = next((i for i in images if i["content_id"] == first["id"] and i["kind"] == "featured"
                         and i["status"] == "generated"), None)
        if featured is not None:
            png = out_dir / "images" / f"{slug(first['title'])}-featured.png"
            png.parent.mkdir(parents=True, exist_ok=True)
            png.write_bytes(client.call("GET", f"{sites}/images/{featured['id']}/file"))
            outputs.places.append(("its featured image", str(png)))
    return outputs
