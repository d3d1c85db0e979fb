"""Per-account rate limits on the requests that make work, shared by every API replica, and a
refused run_now that costs one read of the site's slot."""

from __future__ import annotations

import uuid
from typing import Iterator

import psycopg
import pytest

from tests.support.client import Api
from tests.support.errors import assert_error
from tests.support.keywords import keyword_set
from tests.support.stack import Stack, free_port

pytestmark = pytest.mark.e2e
LIMIT = 5


@pytest.fixture(scope="module")
def replicas() -> Iterator[tuple[Stack, Api, Api]]:
    """One stack with two API processes on the same database."""
    with Stack("ratelimit", API_RATE_LIMIT_PER_MINUTE=str(LIMIT)) as stack:
        port = free_port()
        stack.start_process("api-2", "services.api", API_PORT=str(port))
        second = f"http://127.0.0.1:{port}"
        stack.wait_ready(base_url=second)
        yield stack, Api(stack.base_url), Api(second)


def test_the_limit_is_per_account_and_shared_by_every_replica(replicas) -> None:
    _, first, second = replicas
    tenant, other = first.tenant(), first.tenant()
    unknown_run = {"run_id": str(uuid.uuid4())}
    for n in range(LIMIT):
        answer = (first, second)[n % 2].call(tenant.token, "POST", "/api/v1/automation/pause", params=unknown_run)
        assert answer.status_code == 404, answer.text

    for api, method, path, kwargs in [
        (second, "POST", "/api/v1/automation/cancel", {"params": unknown_run}),
        (first, "POST", "/api/v1/automation/run_now", {"params": {"site_id": tenant.site_id}}),
        (second, "POST", f"/api/v1/sites/{tenant.site_id}/keywords", {"json": {"keywords": [{"keyword": "k"}]}}),
    ]:
        answer = api.call(tenant.token, method, path, **kwargs)
        assert_error(answer, 429, "rate_limited")
        assert 1 <= int(answer.headers["Retry-After"]) <= 60
        assert answer.json()["error"]["details"]["retry_after"] == int(answer.headers["Retry-After"])

    reads = first.call(tenant.token, "GET", "/api/v1/automation/history", params={"site_id": tenant.site_id})
    assert reads.status_code == 200  # reads are not limited
    assert second.call(other.token, "POST", "/api/v1/automation/pause", params=unknown_run).status_code == 404


def test_the_rate_limited_routes_declare_429_with_retry_after(replicas) -> None:
    _, first, _ = replicas
    paths = first.http.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/automation/run_now", "/api/v1/automation/pause", "/api/v1/automation/resume",
                 "/api/v1/automation/cancel", "/api/v1/sites/{site_id}/keywords"):
        declared = paths[path]["post"]["responses"]["429"]
        assert "Retry-After" in declared["headers"], path


def test_a_refused_run_now_sends_no_command_when_the_site_is_busy(replicas) -> None:
    stack, first, _ = replicas
    tenant = first.tenant()
    first.import_keywords(tenant, keyword_set(topics=2))
    first.configure(tenant, within_stage_delay=30, between_stage_delay=30)  # stays running meanwhile
    run_id = first.run_now(tenant).json()["run_id"]

    refused = first.run_now(tenant)
    assert_error(refused, 400, "run_active")
    assert refused.json()["error"]["details"]["run_id"] == run_id
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
        starts = conn.execute("SELECT count(*) FROM command_log WHERE site_id = %s AND type = 'StartRun'",
                              (tenant.site_id,)).fetchone()[0]
    assert starts == 1  # only the admitted run's: the refusal never reached the pipeline
    assert first.call(tenant.token, "POST", "/api/v1/automation/cancel", params={"run_id": run_id}).status_code == 202
