"""Error answers of the running API (CONTRACT §3): 401, 400 instead of FastAPI's 422, 404.
The 500 answer is checked in tests/unit/test_api_error_handlers.py (it has no legitimate trigger here)."""

from __future__ import annotations

import uuid

import pytest

from tests.support.client import Api, Tenant
from tests.support.errors import assert_error

pytestmark = pytest.mark.e2e
AUTOMATION = "/api/v1/automation"


@pytest.fixture(scope="module")
def tenant(api: Api) -> Tenant:
    return api.tenant()


def _tenant_requests(site_id: str, run_id: str) -> list[tuple[str, str, dict]]:
    site, run = {"site_id": site_id}, {"run_id": run_id}
    return [
        ("POST", f"/api/v1/sites/{site_id}/keywords", {"json": {"keywords": [{"keyword": "x"}]}}),
        ("GET", f"/api/v1/sites/{site_id}/keywords", {}),
        ("GET", f"/api/v1/sites/{site_id}/images/{uuid.uuid4()}/file", {}),
        ("GET", f"{AUTOMATION}/config", {"params": site}),
        ("PUT", f"{AUTOMATION}/config", {"params": site, "json": {}}),
        ("GET", f"{AUTOMATION}/estimate", {"params": site}),
        ("GET", f"{AUTOMATION}/pipeline_overview", {"params": site}),
        ("POST", f"{AUTOMATION}/run_now", {"params": site}),
        ("GET", f"{AUTOMATION}/current_run", {"params": site}),
        ("GET", f"{AUTOMATION}/history", {"params": site}),
        ("GET", f"{AUTOMATION}/current_processing", {"params": site}),
        ("GET", f"{AUTOMATION}/runs/{run_id}", {}),
        ("GET", f"{AUTOMATION}/runs/{run_id}/events", {}),
        ("GET", f"{AUTOMATION}/logs", {"params": run}),
        ("POST", f"{AUTOMATION}/pause", {"params": run}),
        ("POST", f"{AUTOMATION}/resume", {"params": run}),
        ("POST", f"{AUTOMATION}/cancel", {"params": run}),
    ]


@pytest.mark.parametrize("authorization", [None, "Bearer unknown-token", "Bearer", "Basic dXNlcjpwYXNz", "token"])
def test_a_missing_or_unknown_token_is_401_everywhere(api: Api, tenant: Tenant, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path, kwargs in _tenant_requests(tenant.site_id, str(uuid.uuid4())):
        assert_error(api.http.request(method, path, headers=headers, **kwargs), 401, "unauthorized")


def test_health_needs_no_token(api: Api) -> None:
    assert api.http.get("/healthz").json() == {"status": "ok"}
    ready = api.http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


SITE, RUN = "{site}", "{run}"  # placeholders, filled in with the tenant's site and a random run id


@pytest.mark.parametrize(("method", "path", "params", "body"), [
    ("GET", f"{AUTOMATION}/config", {}, None),                               # site_id missing
    ("GET", f"{AUTOMATION}/config", {"site_id": ""}, None),
    ("GET", f"{AUTOMATION}/estimate", {"site_id": "a\x00b"}, None),
    ("POST", f"{AUTOMATION}/run_now", {}, None),
    ("GET", f"{AUTOMATION}/logs", {}, None),                                 # run_id missing
    ("POST", f"{AUTOMATION}/pause", {}, None),
    ("POST", f"{AUTOMATION}/resume", {"run_id": ""}, None),
    ("POST", f"{AUTOMATION}/cancel", {}, None),
    ("GET", f"{AUTOMATION}/history", {"site_id": SITE, "limit": 0}, None),
    ("GET", f"{AUTOMATION}/history", {"site_id": SITE, "limit": "x"}, None),
    ("GET", f"{AUTOMATION}/history", {"site_id": SITE, "offset": -1}, None),
    ("GET", f"{AUTOMATION}/history", {"site_id": SITE, "offset": 10**30}, None),
    ("GET", f"{AUTOMATION}/logs", {"run_id": RUN, "lines": 0}, None),
    ("GET", f"{AUTOMATION}/logs", {"run_id": RUN, "lines": "all"}, None),
    ("GET", f"{AUTOMATION}/runs/{RUN}", {"as_of": "noon"}, None),
    ("GET", f"/api/v1/sites/{SITE}/keywords", {"limit": 10**6}, None),
    ("POST", f"/api/v1/sites/{SITE}/keywords", {}, {"json": {"keywords": [{"keyword": 5}]}}),
    ("POST", f"/api/v1/sites/{SITE}/keywords", {}, {"content": b"{"}),
    ("POST", f"/api/v1/sites/{SITE}/keywords", {}, None),                   # body missing
    ("PUT", f"{AUTOMATION}/config", {"site_id": SITE}, {"json": {"frequency": "yearly"}}),
])
def test_missing_or_invalid_parameters_are_400_invalid_request_not_422(
    api: Api, tenant: Tenant, method: str, path: str, params: dict, body: dict | None,
) -> None:
    def fill(value: object) -> object:
        return value.replace(SITE, tenant.site_id).replace(RUN, str(uuid.uuid4())) if isinstance(value, str) else value

    headers = {"Authorization": f"Bearer {tenant.token}", "Content-Type": "application/json"}
    answer = api.http.request(method, fill(path), params={k: fill(v) for k, v in params.items()},
                              headers=headers, **(body or {}))
    error = assert_error(answer, 400, "invalid_request")
    assert error["details"]["problems"] and "detail" not in answer.json()


def test_validation_problems_name_the_field(api: Api, tenant: Tenant) -> None:
    answer = api.call(tenant.token, "GET", f"{AUTOMATION}/history", params={"site_id": tenant.site_id, "limit": 0})
    assert assert_error(answer, 400)["details"]["problems"][0]["field"] == "query.limit"


def test_unknown_ids_are_404(api: Api, tenant: Tenant) -> None:
    for method, path, kwargs in _tenant_requests(str(uuid.uuid4()), str(uuid.uuid4())):
        assert_error(api.call(tenant.token, method, path, **kwargs), 404, "not_found")


def test_unknown_paths_are_404_with_the_error_body(api: Api, tenant: Tenant) -> None:
    for path in ("/api/v1/nothing", "/api/v1/automation/runs", f"/api/v1/sites/{tenant.site_id}/widgets"):
        assert_error(api.call(tenant.token, "GET", path), 404, "not_found")


def test_a_wrong_method_is_405_with_the_error_body(api: Api, tenant: Tenant) -> None:
    answer = api.call(tenant.token, "DELETE", f"{AUTOMATION}/config", params={"site_id": tenant.site_id})
    assert_error(answer, 405, "method_not_allowed")


def test_the_openapi_document_is_served_and_never_mentions_422(api: Api) -> None:
    answer = api.http.get("/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"].startswith("3.") and '"422"' not in answer.text
    assert "/api/v1/automation/run_now" in document["paths"]


def test_errors_are_json_even_for_a_html_client(api: Api, tenant: Tenant) -> None:
    answer = api.http.get(f"{AUTOMATION}/config", headers={"Accept": "text/html"})
    assert answer.headers["content-type"].startswith("application/json")
    assert_error(answer, 401)
