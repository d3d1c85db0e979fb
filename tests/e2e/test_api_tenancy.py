"""Tenancy (CONTRACT §3): an owner or member of account A meets 404 on everything of account B,
exactly as for ids that do not exist; admin and tenant tokens each stay on their own side."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from tests.support.client import Api, Tenant
from tests.support.errors import assert_error
from tests.support.keywords import keyword_set
from tests.support.stack import ADMIN_TOKEN

pytestmark = pytest.mark.e2e
AUTOMATION = "/api/v1/automation"
KINDS = ("keywords", "clusters", "ideas", "tasks", "content", "images")


@dataclass
class Victim:
    tenant: Tenant
    done_run: str    # completed, with generated images
    live_run: str    # running, waiting between stages
    image_id: str


@pytest.fixture(scope="module")
def victim(api: Api) -> Victim:
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=1, per_topic=3))
    api.configure(tenant, within_stage_delay=0, between_stage_delay=0)
    done = api.run_now(tenant).json()["run_id"]
    api.wait_status(tenant, done, "completed")
    api.configure(tenant, between_stage_delay=120)
    live = api.run_now(tenant).json()["run_id"]
    image_id = api.listing(tenant, "images")["items"][0]["id"]
    yield Victim(tenant, done, live, image_id)
    api.call(tenant.token, "POST", f"{AUTOMATION}/cancel", params={"run_id": live})


def _requests(site_id: str, run_id: str, image_id: str) -> list[tuple[str, str, dict]]:
    """Every tenant endpoint aimed at ``site_id`` / ``run_id``."""
    site, run = {"site_id": site_id}, {"run_id": run_id}
    requests = [
        ("POST", f"/api/v1/sites/{site_id}/keywords", {"json": {"keywords": [{"keyword": "stolen"}]}}),
        *[("GET", f"/api/v1/sites/{site_id}/{kind}", {}) for kind in KINDS],
        ("GET", f"/api/v1/sites/{site_id}/images/{image_id}/file", {}),
        ("GET", f"{AUTOMATION}/config", {"params": site}),
        ("PUT", f"{AUTOMATION}/config", {"params": site, "json": {"stage_1_batch_size": 2}}),
        *[("GET", f"{AUTOMATION}/{name}", {"params": site})
          for name in ("estimate", "pipeline_overview", "current_run", "history", "current_processing")],
        ("POST", f"{AUTOMATION}/run_now", {"params": site}),
        ("GET", f"{AUTOMATION}/runs/{run_id}", {}),
        ("GET", f"{AUTOMATION}/runs/{run_id}", {"params": {"as_of": "2100-01-01T00:00:00Z"}}),
        ("GET", f"{AUTOMATION}/runs/{run_id}/events", {}),
        ("GET", f"{AUTOMATION}/logs", {"params": run}),
        *[("POST", f"{AUTOMATION}/{action}", {"params": run}) for action in ("pause", "resume", "cancel")],
    ]
    return requests


@pytest.mark.parametrize("role", ["owner", "member"])
@pytest.mark.parametrize("which_run", ["done_run", "live_run"])
def test_another_accounts_sites_and_runs_are_404_like_missing_ones(
    api: Api, victim: Victim, role: str, which_run: str,
) -> None:
    intruder = api.tenant(role=role)
    theirs = _requests(victim.tenant.site_id, getattr(victim, which_run), victim.image_id)
    missing = _requests(str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()))
    for (method, path, kwargs), (_, missing_path, missing_kwargs) in zip(theirs, missing):
        answer = api.call(intruder.token, method, path, **kwargs)
        error = assert_error(answer, 404, "not_found")
        assert error == assert_error(api.call(intruder.token, method, missing_path, **missing_kwargs), 404), path


def test_the_victim_is_untouched_after_the_intrusions(api: Api, victim: Victim) -> None:
    intruder = api.tenant()
    for method, path, kwargs in _requests(victim.tenant.site_id, victim.live_run, victim.image_id):
        api.call(intruder.token, method, path, **kwargs)
    mine = victim.tenant
    assert api.listing(mine, "keywords")["total"] == 3
    config = api.call(mine.token, "GET", f"{AUTOMATION}/config", params={"site_id": mine.site_id}).json()
    assert config["stage_1_batch_size"] != 2
    assert api.run(mine, victim.live_run)["status"] == "running"
    history = api.call(mine.token, "GET", f"{AUTOMATION}/history", params={"site_id": mine.site_id}).json()
    assert history["total"] == 2


def test_an_intruders_own_site_answers_normally(api: Api, victim: Victim) -> None:
    """The 404s above come from ownership, not from a broken token."""
    intruder = api.tenant(role="member")
    for kind in KINDS:
        assert api.listing(intruder, kind) == {"items": [], "total": 0}


@pytest.mark.parametrize("role", ["owner", "member"])
def test_tenant_tokens_are_refused_on_admin_endpoints(api: Api, victim: Victim, role: str) -> None:
    intruder = api.tenant(role=role)
    for account in (intruder.account_id, victim.tenant.account_id):
        for suffix, body in (("credits", {"amount": 10}), ("sites", {"name": "x", "domain": "x.example"}),
                             ("tokens", {"role": "owner"})):
            answer = api.call(intruder.token, "POST", f"/api/v1/admin/accounts/{account}/{suffix}", json=body)
            assert answer.status_code in (401, 403)
            assert_error(answer, answer.status_code)
    answer = api.call(intruder.token, "POST", "/api/v1/admin/accounts", json={"name": "x", "credits": 1})
    assert answer.status_code in (401, 403)


def test_the_admin_token_is_refused_on_tenant_endpoints(api: Api, victim: Victim) -> None:
    for method, path, kwargs in _requests(victim.tenant.site_id, victim.live_run, victim.image_id):
        answer = api.call(ADMIN_TOKEN, method, path, **kwargs)
        assert_error(answer, 401, "unauthorized")
