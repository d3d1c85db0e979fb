"""Admin endpoints (CONTRACT §3.1) through the running API."""

from __future__ import annotations

import hashlib
import uuid

import psycopg
import pytest

from tests.support.client import Api
from tests.support.errors import assert_error
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
ACCOUNTS = "/api/v1/admin/accounts"


def _account(api: Api, credits: int = 500) -> str:
    answer = api.admin("POST", ACCOUNTS, json={"name": "Northwind", "credits": credits})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def test_create_account_answers_its_id_name_and_credits(api: Api) -> None:
    answer = api.admin("POST", ACCOUNTS, json={"name": "Northwind", "credits": 250})
    assert answer.status_code == 201
    body = answer.json()
    assert isinstance(body["id"], str) and body["id"]
    assert {k: body[k] for k in ("name", "credits")} == {"name": "Northwind", "credits": 250}


def test_patch_sets_the_accounts_ceiling_of_ai_calls_in_flight(api: Api) -> None:
    created = api.admin("POST", ACCOUNTS, json={"name": "Northwind", "credits": 250}).json()
    assert created["max_ai_concurrency"] == 16
    answer = api.admin("PATCH", f"{ACCOUNTS}/{created['id']}", json={"max_ai_concurrency": 256})
    assert answer.status_code == 200
    assert answer.json() == {"id": created["id"], "name": "Northwind", "credits": 250, "max_ai_concurrency": 256}


@pytest.mark.parametrize("body", [{"max_ai_concurrency": 0}, {"max_ai_concurrency": 257}, {},
                                  {"max_ai_concurrency": "many"}, {"max_ai_concurrency": 4, "credits": 9}])
def test_patch_refuses_a_ceiling_out_of_range(api: Api, body: dict) -> None:
    account_id = _account(api)
    assert_error(api.admin("PATCH", f"{ACCOUNTS}/{account_id}", json=body), 400, "invalid_request")


def test_patch_of_an_unknown_account_is_404(api: Api) -> None:
    answer = api.admin("PATCH", f"{ACCOUNTS}/{uuid.uuid4()}", json={"max_ai_concurrency": 4})
    assert_error(answer, 404, "not_found")


def test_topping_up_answers_the_new_balance(api: Api) -> None:
    account_id = _account(api, credits=100)
    first = api.admin("POST", f"{ACCOUNTS}/{account_id}/credits", json={"amount": 40})
    assert first.status_code == 200 and first.json() == {"account_id": account_id, "credits": 140}
    second = api.admin("POST", f"{ACCOUNTS}/{account_id}/credits", json={"amount": 1})
    assert second.json()["credits"] == 141


def test_create_site_answers_the_site(api: Api) -> None:
    account_id = _account(api)
    answer = api.admin("POST", f"{ACCOUNTS}/{account_id}/sites", json={"name": "Beans", "domain": "beans.example"})
    assert answer.status_code == 201
    body = answer.json()
    assert body["id"] and body["account_id"] == account_id
    assert (body["name"], body["domain"]) == ("Beans", "beans.example")


@pytest.mark.parametrize("role", ["owner", "member"])
def test_a_token_works_once_issued_and_is_stored_only_hashed(api: Api, stack: Stack, role: str) -> None:
    tenant = api.tenant(role=role)
    assert api.call(tenant.token, "GET", "/api/v1/automation/config", params={"site_id": tenant.site_id}).status_code == 200
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
        rows = conn.execute("SELECT token_hash, role FROM api_tokens WHERE account_id = %s", (tenant.account_id,)).fetchall()
        raw = conn.execute("SELECT count(*) FROM api_tokens WHERE token_hash = %s OR role = %s",
                           (tenant.token, tenant.token)).fetchone()[0]
    assert rows == [(hashlib.sha256(tenant.token.encode()).hexdigest(), role)]
    assert raw == 0


def test_each_issued_token_is_different(api: Api) -> None:
    account_id = _account(api)
    tokens = {api.admin("POST", f"{ACCOUNTS}/{account_id}/tokens", json={"role": "owner"}).json()["token"]
              for _ in range(3)}
    assert len(tokens) == 3


@pytest.mark.parametrize("body", [
    {}, {"name": "x"}, {"credits": 5}, {"name": "", "credits": 5}, {"name": "x", "credits": -1},
    {"name": "x", "credits": "lots"}, {"name": "x" * 201, "credits": 1}, {"name": "a\u0000b", "credits": 1},
])
def test_invalid_account_bodies_are_400(api: Api, body: dict) -> None:
    assert_error(api.admin("POST", ACCOUNTS, json=body), 400, "invalid_request")


@pytest.mark.parametrize(("suffix", "body"), [
    ("credits", {"amount": 0}), ("credits", {"amount": -5}), ("credits", {}),
    ("sites", {"name": "x"}), ("sites", {"name": "", "domain": "d"}),
    ("tokens", {"role": "admin"}), ("tokens", {}),
])
def test_invalid_bodies_on_an_account_are_400(api: Api, suffix: str, body: dict) -> None:
    account_id = _account(api)
    assert_error(api.admin("POST", f"{ACCOUNTS}/{account_id}/{suffix}", json=body), 400, "invalid_request")


@pytest.mark.parametrize(("suffix", "body"), [
    ("credits", {"amount": 5}), ("sites", {"name": "x", "domain": "x.example"}), ("tokens", {"role": "owner"}),
])
def test_an_unknown_account_is_404(api: Api, suffix: str, body: dict) -> None:
    assert_error(api.admin("POST", f"{ACCOUNTS}/{uuid.uuid4()}/{suffix}", json=body), 404, "not_found")


@pytest.mark.parametrize("role", ["owner", "member"])
def test_tenant_tokens_cannot_use_admin_endpoints(api: Api, role: str) -> None:
    tenant = api.tenant(role=role)
    requests = [
        ("POST", ACCOUNTS, {"name": "Mine", "credits": 10**6}),
        ("POST", f"{ACCOUNTS}/{tenant.account_id}/credits", {"amount": 10**6}),
        ("POST", f"{ACCOUNTS}/{tenant.account_id}/sites", {"name": "x", "domain": "x.example"}),
        ("POST", f"{ACCOUNTS}/{tenant.account_id}/tokens", {"role": "owner"}),
    ]
    for method, path, body in requests:
        answer = api.call(tenant.token, method, path, json=body)
        assert answer.status_code in (401, 403), answer.text
        assert_error(answer, answer.status_code)
    estimate = api.call(tenant.token, "GET", "/api/v1/automation/estimate", params={"site_id": tenant.site_id})
    assert estimate.json()["available_credits"] == 100_000  # no top-up got through


def test_admin_endpoints_refuse_a_missing_or_wrong_token(api: Api) -> None:
    body = {"name": "x", "credits": 1}
    assert_error(api.http.post(ACCOUNTS, json=body), 401, "unauthorized")
    for header in ("Bearer not-the-admin-token", "Basic dGVzdDp0ZXN0", "Bearer"):
        assert_error(api.http.post(ACCOUNTS, json=body, headers={"Authorization": header}), 401, "unauthorized")
