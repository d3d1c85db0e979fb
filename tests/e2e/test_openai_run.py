"""A whole run on the `openai` provider: the real client, over HTTP, against a local compatible server."""

from __future__ import annotations

import pytest

from tests.support.client import Api
from tests.support.fake_openai import FakeOpenAI, Status
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


def test_a_run_on_the_openai_provider_completes_and_bills_its_token_usage() -> None:
    with FakeOpenAI() as fake:
        with Stack("openai", AI_PROVIDER="openai", OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="sk-test",
                   OPENAI_MODEL="gpt-test", OPENAI_IMAGE_MODEL="image-test") as stack:
            api = Api(stack.base_url)
            tenant = api.small_site()
            fake.script(Status(429))  # the first call is rate limited; the rate-limited provider retries it
            run_id = api.start_run(tenant)
            run = api.wait_status(tenant, run_id, "completed", "failed", timeout=120)
            assert run["status"] == "completed", run["error_message"]

            chat = [r for r in fake.requests if r.path.endswith("/chat/completions")]
            images = [r for r in fake.requests if r.path.endswith("/images/generations")]
            assert {r.schema_name for r in chat} >= {"keyword_clusters", "article_ideas", "article", "image_prompts"}
            assert all(r.body["model"] == "gpt-test" for r in chat)
            assert all(r.headers.get("authorization") == "Bearer sk-test" for r in fake.requests)
            assert len(images) == api.listing(tenant, "images")["total"] > 0

            events = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
            billed = sum(e["data"]["credits"] for e in events if e["type"] == "CreditsUsed")
            assert billed == run["total_credits_used"] >= len(chat) - 1 + 3 * len(images)
            assert all(c["status"] == "review" for c in api.listing(tenant, "content")["items"])
