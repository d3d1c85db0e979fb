"""How many AI calls are in flight, counted where they arrive: a local OpenAI-compatible server
answering each call after a pause, behind real api, pipeline and projector processes.
A run keeps at most its `ai_concurrency`; a pipeline process at most `AI_MAX_IN_FLIGHT`."""

from __future__ import annotations

import pytest

from tests.support.client import Api, Tenant
from tests.support.fake_openai import FakeOpenAI
from tests.support.keywords import keyword_set
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
PROCESS_CAP = 3


def _start(api: Api, ai_concurrency: int) -> tuple[Tenant, str]:
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=3, per_topic=3))
    api.configure(tenant, ai_concurrency=ai_concurrency, within_stage_delay=0, between_stage_delay=0)
    return tenant, api.run_now(tenant).json()["run_id"]


def test_a_run_keeps_its_ai_concurrency_and_a_process_its_ai_max_in_flight() -> None:
    with FakeOpenAI() as fake:
        fake.latency = 0.2
        with Stack("inflight", AI_PROVIDER="openai", OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="sk-test",
                   AI_MAX_IN_FLIGHT=str(PROCESS_CAP)) as stack:
            api = Api(stack.base_url)
            tenant, run_id = _start(api, ai_concurrency=2)
            assert api.wait_status(tenant, run_id, "completed", "failed", timeout=180)["status"] == "completed"
            assert fake.peak_in_flight == 2  # the run's own width, below the process cap

            fake.reset()
            runs = [_start(api, ai_concurrency=8) for _ in range(2)]
            for tenant, run_id in runs:
                assert api.wait_status(tenant, run_id, "completed", "failed", timeout=180)["status"] == "completed"
            assert fake.peak_in_flight == PROCESS_CAP  # 16 wanted, the process lets 3 through
