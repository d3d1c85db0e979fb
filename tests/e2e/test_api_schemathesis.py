"""Property-based checks of the running API against its own OpenAPI document (schemathesis).

Generated requests (valid and invalid) go to the real stack. Ids in a case are swapped for
real ones two times out of three, so that the success answers are checked too, not only
the 404s: site D has a completed run and data in every listing; keyword imports go to
site K, which never runs; runs start on site R, which has no keywords, so they are tiny.
Checks: no 5xx, every documented answer matches its schema, no undocumented status code.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.support.client import Api, Tenant
from tests.support.keywords import keyword_set
from tests.support.stack import ADMIN_TOKEN, Stack

pytestmark = pytest.mark.e2e
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
BOUND = settings(max_examples=25, deadline=None, derandomize=True,
                 suppress_health_check=list(HealthCheck))


@dataclass
class World:
    api: Api
    data: Tenant        # site D: a completed run and data in every listing
    sandbox: Tenant     # site K: keyword imports land here
    runner: Tenant      # site R: runs start here (no keywords, so they are tiny)
    run_id: str
    image_id: str
    cases: Iterator[int] = field(default_factory=itertools.count)

    def real_ids(self) -> bool:
        return next(self.cases) % 3 != 2

    def live_run(self) -> str:
        answer = self.api.call(self.runner.token, "GET", "/api/v1/automation/current_run",
                               params={"site_id": self.runner.site_id})
        run = answer.json()["run"]
        return run["run_id"] if run else self.run_id


@pytest.fixture(scope="module")
def world(api: Api) -> World:
    data = api.tenant()
    api.import_keywords(data, keyword_set(topics=1, per_topic=3))
    api.configure(data, within_stage_delay=0, between_stage_delay=0)
    run_id = api.run_now(data).json()["run_id"]
    api.wait_status(data, run_id, "completed")
    sandbox = api.tenant(account_id=data.account_id)
    runner = api.tenant(account_id=data.account_id)
    api.configure(runner, within_stage_delay=0, between_stage_delay=0)
    image_id = api.listing(data, "images")["items"][0]["id"]
    return World(api, data, sandbox, runner, run_id, image_id)


@pytest.fixture(scope="module")
def api_schema(stack: Stack) -> Any:
    return schemathesis.openapi.from_url(f"{stack.base_url}/openapi.json")


def _aim(case: Any, world: World) -> None:
    """Point the case's ids at real objects of the tenant."""
    path, method = case.operation.path, case.method.upper()
    site = world.sandbox if path.endswith("/keywords") and method == "POST" else (
        world.runner if path.endswith(("/run_now", "/config")) else world.data)
    run_id = world.live_run() if path.endswith(("/pause", "/resume", "/cancel")) else world.run_id
    real = {"site_id": site.site_id, "run_id": run_id, "image_id": world.image_id,
            "account_id": world.data.account_id}
    for container in (case.path_parameters, case.query):
        if isinstance(container, dict):
            for name, value in real.items():
                if name in container:
                    container[name] = value


def _fuzz(schema: Any, world: World, token: str, mode: GenerationMode) -> list[str]:
    """Run every operation of ``schema``; the failures, one line each (hypothesis shrinks them)."""
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @BOUND
        def check(case: Any) -> None:
            if world.real_ids():
                _aim(case, world)
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

        try:
            check()
        except Unsatisfiable:
            pass  # negative mode: an operation without parameters has no invalid request to make
        except (Exception, FailureGroup) as error:  # collected, so one run reports every operation
            failures.append(f"{operation.label} ({mode.value}): {str(error)[:2000]}")
    return failures


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_tenant_api_keeps_to_its_schema(api_schema: Any, world: World, mode: GenerationMode) -> None:
    # The event stream never ends by itself, so a generated call to it would never return;
    # tests/e2e/test_stream.py covers it.
    tenant_schema = api_schema.exclude(path_regex="^/api/v1/admin/").exclude(path="/api/v1/automation/stream")
    failures = _fuzz(tenant_schema, world, world.data.token, mode)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_admin_api_keeps_to_its_schema(api_schema: Any, world: World, mode: GenerationMode) -> None:
    failures = _fuzz(api_schema.include(path_regex="^/api/v1/admin/"), world, ADMIN_TOKEN, mode)
    assert not failures, "\n\n".join(failures)
