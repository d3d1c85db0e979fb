"""A thin HTTP client for the API, with the set-up steps most tests share."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import httpx

from tests.support.keywords import keyword_set
from tests.support.stack import ADMIN_TOKEN

NO_DELAYS = {"within_stage_delay": 0, "between_stage_delay": 0}


@dataclass
class Tenant:
    account_id: str
    site_id: str
    token: str


class Api:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, **kwargs)

    def call(self, token: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)

    def tenant(self, credits: int = 100_000, role: str = "owner", account_id: str | None = None) -> Tenant:
        if account_id is None:
            account = self.admin("POST", "/api/v1/admin/accounts", json={"name": "Acme", "credits": credits})
            assert account.status_code == 201, account.text
            account_id = account.json()["id"]
        site = self.admin("POST", f"/api/v1/admin/accounts/{account_id}/sites",
                          json={"name": "Blog", "domain": "blog.example"})
        assert site.status_code == 201, site.text
        token = self.admin("POST", f"/api/v1/admin/accounts/{account_id}/tokens", json={"role": role})
        assert token.status_code == 201, token.text
        return Tenant(account_id, site.json()["id"], token.json()["token"])

    def import_keywords(self, tenant: Tenant, keywords: list[str]) -> dict[str, int]:
        answer = self.call(tenant.token, "POST", f"/api/v1/sites/{tenant.site_id}/keywords",
                           json={"keywords": [{"keyword": k, "volume": 100 + i} for i, k in enumerate(keywords)]})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def configure(self, tenant: Tenant, **fields: Any) -> dict[str, Any]:
        answer = self.call(tenant.token, "PUT", "/api/v1/automation/config",
                           params={"site_id": tenant.site_id}, json=fields)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def run_now(self, tenant: Tenant) -> httpx.Response:
        return self.call(tenant.token, "POST", "/api/v1/automation/run_now", params={"site_id": tenant.site_id})

    def start_run(self, tenant: Tenant) -> str:
        """``run_now``, admitted: the new run's id."""
        answer = self.run_now(tenant)
        assert answer.status_code == 202, answer.text
        return answer.json()["run_id"]

    def small_site(self, **config: Any) -> Tenant:
        """A new tenant whose site has six keywords in two topics and no delays (``config`` on
        top): a whole run takes seconds."""
        tenant = self.tenant()
        self.import_keywords(tenant, keyword_set(topics=2, per_topic=3))
        self.configure(tenant, **{**NO_DELAYS, **config})
        return tenant

    def run(self, tenant: Tenant, run_id: str) -> dict[str, Any]:
        answer = self.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def listing(self, tenant: Tenant, kind: str, limit: int = 500) -> dict[str, Any]:
        answer = self.call(tenant.token, "GET", f"/api/v1/sites/{tenant.site_id}/{kind}", params={"limit": limit})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def wait_run(self, tenant: Tenant, run_id: str, until: Callable[[dict[str, Any]], bool],
                 timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        run: dict[str, Any] = {}
        while time.monotonic() < deadline:
            run = self.run(tenant, run_id)
            if until(run):
                return run
            time.sleep(0.05)
        raise TimeoutError(f"run {run_id} never matched; last seen: {run}")

    def wait_status(self, tenant: Tenant, run_id: str, *statuses: str, timeout: float = 60.0) -> dict[str, Any]:
        return self.wait_run(tenant, run_id, lambda run: run["status"] in statuses, timeout)
