"""A 429 storm: the provider refuses a third of the calls, and the run still completes, with
no item failed and every credit charged once (CONTRACT §7: AI_*_PER_MINUTE, issue 9)."""

from __future__ import annotations

import psycopg
import pytest

from shared.credits import credits_for_images, credits_for_text_call
from tests.support.client import Api
from tests.support.fake_openai import FakeOpenAI
from tests.support.metrics import has, value, wait_for
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


def test_a_run_through_a_429_storm_completes_with_no_failure_and_no_double_charge() -> None:
    with FakeOpenAI() as fake:
        with Stack("storm", AI_PROVIDER="openai", OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="sk-test",
                   OPENAI_MODEL="gpt-test", OPENAI_IMAGE_MODEL="image-test",
                   AI_REQUESTS_PER_MINUTE="6000", AI_TOKENS_PER_MINUTE="10000000", AI_IMAGES_PER_MINUTE="600") as stack:
            api = Api(stack.base_url)
            tenant = api.small_site()
            fake.storm(every=3)
            run_id = api.start_run(tenant)
            run = api.wait_status(tenant, run_id, "completed", "failed", timeout=180)
            assert run["status"] == "completed", run["error_message"]

            refused = [r for r in fake.requests if r.rate_limited]
            assert len(refused) >= 5 and len(refused) * 3 >= len(fake.requests) - 2
            assert {r.retry_after_ms is None for r in refused} == {True, False}
            # Every 429 reached the limiter (the client retries none), and slots given up are counted.
            pipeline = wait_for(stack.metrics_url("pipeline"), lambda s: has(s, "automation_ai_slots_missed_total"))
            assert value(pipeline, "automation_ai_rate_limited_total", provider="openai") == len(refused)

            events = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
            assert [e for e in events if e["type"] == "ItemFailed"] == []
            answered = [r for r in fake.requests if not r.rate_limited]
            chat = [r.usage["total_tokens"] for r in answered if r.path.endswith("/chat/completions")]
            images = [r for r in answered if r.path.endswith("/images/generations")]
            owed = sum(credits_for_text_call(tokens) for tokens in chat) + credits_for_images(len(images))
            billed = sum(e["data"]["credits"] for e in events if e["type"] == "CreditsUsed")
            assert billed == run["total_credits_used"] == owed
            with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
                debited = conn.execute("SELECT sum(amount) FROM credit_ledger WHERE run_id = %s AND kind = 'debit'",
                                       (run_id,)).fetchone()[0]
                cooled = conn.execute("SELECT cool_down_until > '-infinity' FROM ai_rate_limits "
                                      "WHERE provider = 'openai'").fetchone()
            assert debited == owed
            assert cooled == (True,)  # the 429s went through the limit every process shares
            assert all(c["status"] == "review" for c in api.listing(tenant, "content")["items"])
