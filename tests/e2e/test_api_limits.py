"""Hostile or careless requests against the running API: oversized bodies, wrong methods,
long audit trails read a page at a time (issue: nothing one tenant sends can stall or flood)."""

from __future__ import annotations

from typing import Iterator

import pytest

from services.api.entrypoints.body_limit import MAX_BODY_BYTES
from tests.support.client import Api, Tenant
from tests.support.errors import assert_error

pytestmark = pytest.mark.e2e
AUTOMATION = "/api/v1/automation"


@pytest.fixture(scope="module")
def tenant(api: Api) -> Tenant:
    return api.tenant()


def _json(tenant: Tenant) -> dict[str, str]:
    return {"content-type": "application/json", "authorization": f"Bearer {tenant.token}"}


def _oversized() -> bytes:
    keyword = b'{"keyword": "' + b"k" * 150 + b'"},'
    count = MAX_BODY_BYTES // len(keyword) + 1
    return b'{"keywords": [' + keyword * count + b'{"keyword": "last"}]}'


def test_a_body_over_2_mb_is_413_before_auth_or_parsing(api: Api, tenant: Tenant) -> None:
    body = _oversized()
    assert len(body) > MAX_BODY_BYTES
    path = f"/api/v1/sites/{tenant.site_id}/keywords"
    # No token at all: the size is refused before anyone looks at who is asking.
    assert_error(api.http.post(path, content=body, headers={"content-type": "application/json"}),
                 413, "payload_too_large")
    owned = api.http.post(path, content=body, headers=_json(tenant))
    assert_error(owned, 413, "payload_too_large")
    assert api.listing(tenant, "keywords")["total"] == 0


def test_a_chunked_body_over_2_mb_is_413_too(api: Api, tenant: Tenant) -> None:
    body = _oversized()

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server has to count
        for start in range(0, len(body), 64 * 1024):
            yield body[start:start + 64 * 1024]

    answer = api.http.post(f"/api/v1/sites/{tenant.site_id}/keywords", content=chunks(), headers=_json(tenant))
    assert_error(answer, 413, "payload_too_large")
    assert api.listing(tenant, "keywords")["total"] == 0


def test_a_body_under_the_limit_still_works(api: Api, tenant: Tenant) -> None:
    assert api.import_keywords(tenant, ["under the limit"]) == {"created": 1, "duplicates": 0}


def test_405_names_the_allowed_methods(api: Api, tenant: Tenant) -> None:
    answer = api.call(tenant.token, "DELETE", f"{AUTOMATION}/config", params={"site_id": tenant.site_id})
    assert_error(answer, 405, "method_not_allowed")
    assert set(answer.headers["allow"].replace(" ", "").split(",")) == {"GET", "PUT"}


def test_null_config_fields_are_refused_and_change_nothing(api: Api, tenant: Tenant) -> None:
    before = api.call(tenant.token, "GET", f"{AUTOMATION}/config", params={"site_id": tenant.site_id}).json()
    answer = api.call(tenant.token, "PUT", f"{AUTOMATION}/config", params={"site_id": tenant.site_id},
                      json={"stage_1_batch_size": 7, "frequency": None})
    assert_error(answer, 400, "invalid_request")
    after = api.call(tenant.token, "GET", f"{AUTOMATION}/config", params={"site_id": tenant.site_id}).json()
    assert after == before


def test_a_long_keyword_is_refused_by_the_schema_it_declares(api: Api, tenant: Tenant) -> None:
    schema = api.http.get("/openapi.json").json()["components"]["schemas"]["KeywordIn"]
    assert schema["properties"]["keyword"]["maxLength"] == 200
    answer = api.call(tenant.token, "POST", f"/api/v1/sites/{tenant.site_id}/keywords",
                      json={"keywords": [{"keyword": "x" * 201}]})
    assert_error(answer, 400, "invalid_request")


def test_the_audit_trail_comes_a_page_at_a_time(api: Api) -> None:
    tenant = api.tenant()
    api.import_keywords(tenant, [f"paging keyword {i}" for i in range(4)])
    run_id = api.run_now(tenant).json()["run_id"]
    api.wait_status(tenant, run_id, "completed")
    path = f"{AUTOMATION}/runs/{run_id}/events"
    whole = api.call(tenant.token, "GET", path).json()
    assert whole["has_more"] is False
    sequences = [e["sequence"] for e in whole["events"]]
    assert sequences == list(range(1, len(sequences) + 1)) and len(sequences) > 6

    paged, after = [], 0
    while True:
        page = api.call(tenant.token, "GET", path, params={"limit": 3, "after_sequence": after}).json()
        assert len(page["events"]) <= 3
        paged += page["events"]
        if not page["has_more"]:
            break
        after = page["events"][-1]["sequence"]
    assert paged == whole["events"]
    assert_error(api.call(tenant.token, "GET", path, params={"limit": 1001}), 400, "invalid_request")
