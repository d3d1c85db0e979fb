"""A run that fails for real: the database refuses a stage's output, as a full disk or a
broken constraint would. The run ends failed, says why, and can't be steered any more."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.support.client import Api
from tests.support.kafka import wait_messages
from tests.support.keywords import keyword_set
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e
REFUSAL = "no space left for content (refused by the test)"


def _refuse_content_of(stack: Stack, site_id: str) -> str:
    """A trigger that refuses this site's articles only; the stack's other tests go on."""
    name = f"refuse_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(stack.owner_url, autocommit=True) as conn:
        conn.execute(f"""
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.site_id = '{site_id}' THEN RAISE EXCEPTION '{REFUSAL}'; END IF;
                RETURN NEW;
            END $$""")
        conn.execute(f"CREATE TRIGGER {name} BEFORE INSERT ON content FOR EACH ROW EXECUTE FUNCTION {name}()")
    return name


def _drop(stack: Stack, name: str) -> None:
    with psycopg.connect(stack.owner_url, autocommit=True) as conn:
        conn.execute(f"DROP TRIGGER {name} ON content")
        conn.execute(f"DROP FUNCTION {name}()")


def test_a_stage_whose_output_is_refused_fails_the_run(stack: Stack, api: Api) -> None:
    tenant = api.tenant(credits=10_000)
    api.import_keywords(tenant, keyword_set(topics=1, per_topic=3))
    api.configure(tenant, within_stage_delay=0, between_stage_delay=0)
    trigger = _refuse_content_of(stack, tenant.site_id)
    try:
        run_id = api.run_now(tenant).json()["run_id"]
        run = api.wait_status(tenant, run_id, "failed", "completed", timeout=60)
    finally:
        _drop(stack, trigger)

    assert run["status"] == "failed" and REFUSAL in run["error_message"], run
    assert run["current_stage"] == 4 and run["completed_at"]
    assert run["stage_results"]["4"]["partial"] is True and run["stage_results"]["4"]["completed_at"] is None
    assert all(run["stage_results"][str(n)]["partial"] is False for n in (1, 2, 3))
    events = api.call(tenant.token, "GET", f"/api/v1/automation/runs/{run_id}/events").json()["events"]
    assert events[-1]["type"] == "RunFailed" and events[-1]["data"]["error_message"] == run["error_message"]
    assert api.listing(tenant, "content")["total"] == 0

    for action in ("cancel", "pause", "resume"):
        refused = api.call(tenant.token, "POST", f"/api/v1/automation/{action}", params={"run_id": run_id})
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == "invalid_transition"
    assert api.run(tenant, run_id)["status"] == "failed"

    # The site is free again and the rest of the reservation went back to the account.
    current = api.call(tenant.token, "GET", "/api/v1/automation/current_run", params={"site_id": tenant.site_id})
    assert current.json() == {"run": None}
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
        credits, reserved = conn.execute("SELECT credits, reserved FROM accounts WHERE id = %s",
                                         (tenant.account_id,)).fetchone()
    assert (credits, reserved) == (10_000 - run["total_credits_used"], 0)

    failed = wait_messages(stack, "events", run_id, lambda found: any(m["type"] == "RunFailed" for m in found))
    (on_topic,) = {m["event_id"]: m for _, m in failed if m["type"] == "RunFailed"}.values()
    assert on_topic["data"]["error_message"] == run["error_message"]
    assert on_topic["sequence"] == events[-1]["sequence"]
