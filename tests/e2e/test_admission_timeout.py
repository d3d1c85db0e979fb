"""A run_now that times out is withdrawn: the StartRun can't start a run later behind the caller's back."""

from __future__ import annotations

import signal

import pytest

from tests.support.client import Api
from tests.support.keywords import keyword_set
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


def test_a_timed_out_admission_never_starts_later() -> None:
    with Stack("timeout", ADMISSION_TIMEOUT_SECONDS="2") as stack:
        api = Api(stack.base_url)
        tenant = api.tenant()
        api.import_keywords(tenant, keyword_set(topics=1))
        stack.kill("pipeline", signal.SIGTERM)

        answer = api.run_now(tenant)
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "pipeline_unavailable"

        stack.start_process("pipeline", "services.pipeline")
        retry = api.run_now(tenant)  # decided after the withdrawn one, on the same partition
        for _ in range(15):  # until the new pipeline process has joined its consumer group
            if retry.status_code != 503:
                break
            retry = api.run_now(tenant)
        assert retry.status_code == 202, retry.text
        history = api.call(tenant.token, "GET", "/api/v1/automation/history", params={"site_id": tenant.site_id})
        assert [run["run_id"] for run in history.json()["runs"]] == [retry.json()["run_id"]]
