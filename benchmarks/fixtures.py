"""Set-up steps the figures share: tenants with keywords, config, waiting for runs."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

import psycopg

from shared.stages import STAGES
from tests.support.client import Api, Tenant
from tests.support.samples import sample_keywords
from tests.support.stack import Stack

RICH = 10**9  # credits enough for any run of the benchmark


class Unsupported(Exception):
    """The API refused a config field this branch does not have (ai_concurrency)."""


def site_with_keywords(api: Api, keywords: int | None, account_id: str | None = None) -> Tenant:
    """A site with the first ``keywords`` sample keywords (all of them for None), no delays."""
    tenant = api.tenant(credits=RICH, account_id=account_id)
    answer = api.call(tenant.token, "POST", f"/api/v1/sites/{tenant.site_id}/keywords",
                      json={"keywords": sample_keywords(keywords)})
    assert answer.status_code == 201, answer.text
    api.configure(tenant, within_stage_delay=0, between_stage_delay=0)
    return tenant


def set_ai_concurrency(api: Api, tenant: Tenant, concurrency: int) -> None:
    """PUT ``ai_concurrency``; raises Unsupported when the API refuses the field."""
    answer = api.call(tenant.token, "PUT", "/api/v1/automation/config", params={"site_id": tenant.site_id},
                      json={"ai_concurrency": concurrency})
    if answer.status_code in (400, 422):
        raise Unsupported(answer.text)
    assert answer.status_code == 200, answer.text


def wait_finished(api: Api, tenant: Tenant, run_id: str, timeout: float) -> dict[str, Any]:
    """The run once the read model shows it completed (its last event, so every read model
    of the run is current: the projector applies a run's events in order)."""
    return api.wait_status(tenant, run_id, "completed", "failed", "cancelled", timeout=timeout)


def current_run(api: Api, tenant: Tenant) -> dict[str, Any] | None:
    answer = api.call(tenant.token, "GET", "/api/v1/automation/current_run", params={"site_id": tenant.site_id})
    assert answer.status_code == 200, answer.text
    return answer.json()["run"]


def wait_current(api: Api, tenant: Tenant, until: Any, timeout: float, interval: float = 0.005) -> dict | None:
    """Polls current_run until ``until(run)``; returns that run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = current_run(api, tenant)
        if until(run):
            return run
        time.sleep(interval)
    raise TimeoutError(f"current_run never matched in {timeout}s")


def cancel_active(api: Api, tenants: list[Tenant]) -> None:
    """Cancels the sites' running or paused runs, so that no work is left for later figures."""
    for tenant in tenants:
        run = current_run(api, tenant)
        if run is not None:
            api.call(tenant.token, "POST", "/api/v1/automation/cancel", params={"run_id": run["run_id"]})


def items_of(run: dict[str, Any]) -> int:
    """Items a run handled, over every stage: processed or failed."""
    return sum(r["items_processed"] + r["items_failed"] for r in run["stage_results"].values())


def seconds(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def ai_stages() -> list[int]:
    """Stages that call the AI (a stage priced at zero makes no call)."""
    return [s.number for s in STAGES if s.credits_per_unit > 0]


def pending_articles(stack: Stack, tenant: Tenant, count: int) -> None:
    """``count`` writer tasks waiting for stage 4 (one AI call each), written straight into the
    planner tables: reaching them through stages 1–3 at 2 s per call would take minutes."""
    site = tenant.site_id
    cluster = str(uuid.uuid4())
    ideas = [(str(uuid.uuid4()), str(uuid.uuid4()), n) for n in range(count)]
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO clusters (id, site_id, name, description) VALUES (%s, %s, %s, %s)",
                    (cluster, site, "espresso machines", "Choosing, using and cleaning espresso machines."))
        cur.execute("INSERT INTO keywords (id, site_id, keyword, keyword_norm, volume, cluster_id)"
                    " VALUES (%s, %s, 'best espresso machine', 'best espresso machine', 900, %s)",
                    (str(uuid.uuid4()), site, cluster))
        cur.executemany("INSERT INTO ideas (id, site_id, cluster_id, position, title, description, status)"
                        " VALUES (%s, %s, %s, %s, %s, %s, 'queued')",
                        [(idea, site, cluster, n, f"Espresso guide {n}", "A practical guide.") for idea, _, n in ideas])
        cur.executemany("INSERT INTO tasks (id, site_id, idea_id, title) VALUES (%s, %s, %s, %s)",
                        [(task, site, idea, f"Espresso guide {n}") for idea, task, n in ideas])
