"""Automation endpoints (CONTRACT §3.3) through the running API, pipeline and projector."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.client import Api, Tenant
from tests.support.errors import assert_error
from tests.support.keywords import keyword_set

pytestmark = pytest.mark.e2e
AUTOMATION = "/api/v1/automation"
FAST = {"within_stage_delay": 0, "between_stage_delay": 0}
# Stage 1 runs at once, then the run waits a minute before stage 2: it stays running to be steered.
HELD = {"within_stage_delay": 0, "between_stage_delay": 60}
STAGES = ["keywords_to_clusters", "clusters_to_ideas", "ideas_to_tasks", "tasks_to_content",
          "content_to_image_prompts", "image_prompts_to_images", "review_gate"]


def _get(api: Api, tenant: Tenant, name: str, **params: object) -> dict:
    answer = api.call(tenant.token, "GET", f"{AUTOMATION}/{name}", params={"site_id": tenant.site_id, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _control(api: Api, tenant: Tenant, action: str, run_id: str):
    return api.call(tenant.token, "POST", f"{AUTOMATION}/{action}", params={"run_id": run_id})


def _held_run(api: Api, keywords: int = 3) -> tuple[Tenant, str]:
    tenant = api.tenant()
    if keywords:
        api.import_keywords(tenant, keyword_set(topics=1, per_topic=keywords))
    api.configure(tenant, **HELD)
    answer = api.run_now(tenant)
    assert answer.status_code == 202, answer.text
    return tenant, answer.json()["run_id"]


def _wait(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise TimeoutError("condition never held")


# --- config ---------------------------------------------------------------------------------

def test_config_is_created_with_defaults_on_first_read(api: Api) -> None:
    tenant = api.tenant()
    config = _get(api, tenant, "config")
    assert config == _get(api, tenant, "config")
    assert config["site_id"] == tenant.site_id
    assert config["is_enabled"] is False and config["frequency"] in ("daily", "weekly", "monthly")
    assert len(config["scheduled_time"]) == 5 and config["scheduled_time"][2] == ":"
    assert all(config[f"stage_{n}_batch_size"] >= 1 for n in range(1, 7))
    assert config["within_stage_delay"] >= 0 and config["between_stage_delay"] >= 0
    assert config["last_run_at"] is None and config["next_run_at"] is None
    assert config["ai_concurrency"] == 8


def test_ai_concurrency_is_set_from_1_to_64_and_shown_in_the_estimate(api: Api) -> None:
    tenant = api.tenant()
    assert api.configure(tenant, ai_concurrency=64)["ai_concurrency"] == 64
    assert api.configure(tenant, ai_concurrency=1)["ai_concurrency"] == 1
    assert _get(api, tenant, "estimate")["ai_concurrency"] == 1


def test_put_changes_only_the_fields_given(api: Api) -> None:
    tenant = api.tenant()
    before = _get(api, tenant, "config")
    after = api.configure(tenant, stage_1_batch_size=7, within_stage_delay=0.5)
    assert after == {**before, "stage_1_batch_size": 7, "within_stage_delay": 0.5}
    assert _get(api, tenant, "config") == after
    assert api.configure(tenant) == after  # an empty subset changes nothing


def test_enabling_a_weekly_schedule_sets_next_run_at_to_a_monday(api: Api) -> None:
    tenant = api.tenant()
    config = api.configure(tenant, is_enabled=True, frequency="weekly", scheduled_time="06:30")
    next_run = datetime.fromisoformat(config["next_run_at"].replace("Z", "+00:00"))
    assert next_run.weekday() == 0 and (next_run.hour, next_run.minute) == (6, 30)
    assert datetime.now(timezone.utc) < next_run <= datetime.now(timezone.utc) + timedelta(days=7)
    assert api.configure(tenant, is_enabled=False)["next_run_at"] is None


@pytest.mark.parametrize("body", [
    {"stage_1_batch_size": 0}, {"stage_6_batch_size": -3}, {"stage_2_batch_size": "many"},
    {"stage_3_batch_size": 2.5}, {"within_stage_delay": -1}, {"between_stage_delay": "soon"},
    {"frequency": "hourly"}, {"scheduled_time": "24:00"}, {"scheduled_time": "7:00"}, {"scheduled_time": 700},
    {"is_enabled": "maybe"}, {"is_enabled": None}, {"next_run_at": "2030-01-01T00:00:00Z"},
    {"last_run_at": None}, {"site_id": "another"}, {"colour": "blue"},
    {"stage_1_batch_size": 5, "frequency": "fortnightly"},
    {"ai_concurrency": 0}, {"ai_concurrency": 65}, {"ai_concurrency": None}, {"ai_concurrency": "all"},
])
def test_invalid_config_values_are_400_and_change_nothing(api: Api, body: dict) -> None:
    tenant = api.tenant()
    before = _get(api, tenant, "config")
    answer = api.call(tenant.token, "PUT", f"{AUTOMATION}/config", params={"site_id": tenant.site_id}, json=body)
    assert_error(answer, 400, "invalid_request")
    assert _get(api, tenant, "config") == before


def test_a_config_body_that_is_not_an_object_is_400(api: Api) -> None:
    tenant = api.tenant()
    for content in (b"[1, 2]", b"not json", b""):
        answer = api.http.put(f"{AUTOMATION}/config", params={"site_id": tenant.site_id}, content=content,
                              headers={"Authorization": f"Bearer {tenant.token}", "Content-Type": "application/json"})
        assert_error(answer, 400, "invalid_request")


def test_a_member_reads_the_config_but_may_not_change_it(api: Api) -> None:
    owner = api.tenant()
    member = api.tenant(role="member", account_id=owner.account_id)
    member_site = Tenant(owner.account_id, owner.site_id, member.token)
    before = _get(api, member_site, "config")
    answer = api.call(member.token, "PUT", f"{AUTOMATION}/config", params={"site_id": owner.site_id},
                      json={"stage_1_batch_size": 3})
    assert_error(answer, 403, "forbidden")
    assert _get(api, owner, "config") == before


# --- estimate and overview ------------------------------------------------------------------

def test_estimate_of_ten_keywords(api: Api) -> None:
    tenant = api.tenant(credits=1000)
    api.import_keywords(tenant, keyword_set(topics=2))
    estimate = _get(api, tenant, "estimate")
    # 1 clustering call, 2 clusters, 4 ideas → 4 tasks → 4 articles → 12 images (credits/docstring)
    assert estimate == {
        "estimated_credits": 51,
        "per_stage": {"1": 1, "2": 2, "3": 0, "4": 8, "5": 4, "6": 36, "7": 0},
        "required_credits": 62,
        "available_credits": 1000,
        "sufficient": True,
        "ai_concurrency": 8,
    }
    api.configure(tenant, stage_1_batch_size=3)
    assert _get(api, tenant, "estimate")["per_stage"]["1"] == 4  # ceil(10 / 3) clustering calls


@pytest.mark.parametrize(("credits", "sufficient"), [(61, False), (62, True)])
def test_estimate_is_sufficient_from_ceil_1_2_times_the_estimate(api: Api, credits: int, sufficient: bool) -> None:
    tenant = api.tenant(credits=credits)
    api.import_keywords(tenant, keyword_set(topics=2))
    estimate = _get(api, tenant, "estimate")
    assert estimate["required_credits"] == -(-estimate["estimated_credits"] * 6 // 5) == 62
    assert (estimate["available_credits"], estimate["sufficient"]) == (credits, sufficient)


def test_estimate_of_an_empty_site_is_zero_and_sufficient(api: Api) -> None:
    estimate = _get(api, api.tenant(credits=0), "estimate")
    assert estimate["estimated_credits"] == estimate["required_credits"] == 0
    assert estimate["per_stage"] == {str(n): 0 for n in range(1, 8)} and estimate["sufficient"] is True


def test_pipeline_overview_lists_the_seven_stages_and_what_is_pending(api: Api) -> None:
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=2))
    stages = _get(api, tenant, "pipeline_overview")["stages"]
    assert [(s["number"], s["name"]) for s in stages] == list(enumerate(STAGES, start=1))
    assert [s["pending"] for s in stages] == [10, 0, 0, 0, 0, 0, 0]
    api.configure(tenant, **FAST)
    run_id = api.run_now(tenant).json()["run_id"]
    api.wait_status(tenant, run_id, "completed")
    assert [s["pending"] for s in _get(api, tenant, "pipeline_overview")["stages"]] == [0] * 7


# --- runs -----------------------------------------------------------------------------------

def test_a_completed_run_in_every_read(api: Api) -> None:
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=1))
    api.configure(tenant, **FAST)
    admitted = api.run_now(tenant)
    assert admitted.status_code == 202 and admitted.json()["status"] == "running"
    assert admitted.headers["server-timing"].startswith("decide;dur=")
    run_id = admitted.json()["run_id"]
    run = api.wait_status(tenant, run_id, "completed")
    assert (run["run_id"], run["site_id"], run["trigger_type"]) == (run_id, tenant.site_id, "manual")
    assert run["current_stage"] == 7 and run["error_message"] is None and run["completed_at"]
    assert run["total_credits_used"] == sum(r["credits_used"] for r in run["stage_results"].values()) > 0
    for key, result in run["stage_results"].items():
        assert result["stage"] == int(key) and result["name"] == STAGES[int(key) - 1]
        assert result["items_processed"] + result["items_failed"] == result["items_total"]
        assert result["started_at"] and result["completed_at"] and result["partial"] is False
    assert _get(api, tenant, "current_run") == {"run": None}
    assert _get(api, tenant, "current_processing") == {"processing": None}

    events = api.call(tenant.token, "GET", f"{AUTOMATION}/runs/{run_id}/events").json()["events"]
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "RunStarted" and events[-1]["type"] == "RunCompleted"
    assert {"StageStarted", "StageCompleted", "CreditsUsed", "ContentReadyForReview"} <= {e["type"] for e in events}
    assert events[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(events, events[1:]))

    logs = api.call(tenant.token, "GET", f"{AUTOMATION}/logs", params={"run_id": run_id}).json()
    assert logs["run_id"] == run_id and 0 < len(logs["lines"]) <= 100
    assert "Run started" in logs["lines"][0] or len(events) > 100
    last_two = api.call(tenant.token, "GET", f"{AUTOMATION}/logs", params={"run_id": run_id, "lines": 2}).json()
    assert last_two["lines"] == logs["lines"][-2:] and "Run completed" in last_two["lines"][-1]


def test_history_is_newest_first_and_pages(api: Api) -> None:
    tenant = api.tenant()
    api.configure(tenant, **FAST)
    run_ids = []
    for _ in range(3):
        run_ids.append(api.run_now(tenant).json()["run_id"])
        api.wait_status(tenant, run_ids[-1], "completed")
    history = _get(api, tenant, "history")
    assert history["total"] == 3 and [r["run_id"] for r in history["runs"]] == run_ids[::-1]
    page = _get(api, tenant, "history", limit=1, offset=1)
    assert page["total"] == 3 and [r["run_id"] for r in page["runs"]] == [run_ids[1]]
    assert _get(api, api.tenant(), "history") == {"runs": [], "total": 0}


def test_run_as_of_a_moment_folds_its_events_up_to_then(api: Api) -> None:
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=1))
    api.configure(tenant, **FAST)
    run_id = api.run_now(tenant).json()["run_id"]
    run = api.wait_status(tenant, run_id, "completed")
    path = f"{AUTOMATION}/runs/{run_id}"
    events = api.call(tenant.token, "GET", f"{path}/events").json()["events"]
    assert api.call(tenant.token, "GET", path, params={"as_of": events[-1]["occurred_at"]}).json() == run
    stage_two = next(e for e in events if e["type"] == "StageStarted" and e["data"]["stage"] == 2)
    then = api.call(tenant.token, "GET", path, params={"as_of": stage_two["occurred_at"]}).json()
    assert then["status"] == "running" and then["current_stage"] == 2 and then["completed_at"] is None
    assert set(then["stage_results"]) == {"1", "2"}
    started = datetime.fromisoformat(run["started_at"].replace("Z", "+00:00"))
    before = (started - timedelta(seconds=1)).isoformat()
    assert_error(api.call(tenant.token, "GET", path, params={"as_of": before}), 404, "not_found")
    for bad in ("yesterday", "2024-13-01T00:00:00Z", ""):
        assert_error(api.call(tenant.token, "GET", path, params={"as_of": bad}), 400, "invalid_request")


def test_run_now_while_a_run_is_active_is_run_active(api: Api) -> None:
    tenant, run_id = _held_run(api)
    assert _get(api, tenant, "current_run")["run"]["run_id"] == run_id
    error = assert_error(api.run_now(tenant), 400, "run_active")
    assert error["message"]
    assert _get(api, tenant, "history")["total"] == 1
    assert _control(api, tenant, "cancel", run_id).status_code == 202


def test_run_now_without_enough_credits_is_refused_with_required_and_available(api: Api) -> None:
    tenant = api.tenant(credits=20)
    api.import_keywords(tenant, keyword_set(topics=2))
    error = assert_error(api.run_now(tenant), 400, "insufficient_credits")
    assert error["details"] == {"required": 62, "available": 20}
    assert _get(api, tenant, "history")["total"] == 0 and _get(api, tenant, "current_run") == {"run": None}


def test_many_concurrent_run_now_admit_exactly_one(api: Api) -> None:
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=1, per_topic=2))
    api.configure(tenant, **HELD)
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: Api(api.http.base_url).run_now(tenant), range(10)))
    admitted = [a for a in answers if a.status_code == 202]
    assert len(admitted) == 1, [a.text for a in answers]
    for answer in answers:
        if answer.status_code != 202:
            assert_error(answer, 400, "run_active")
    run_id = admitted[0].json()["run_id"]
    history = _get(api, tenant, "history")
    assert history["total"] == 1 and history["runs"][0]["run_id"] == run_id
    assert _control(api, tenant, "cancel", run_id).status_code == 202


def test_current_processing_shows_the_batch_in_hand(api: Api) -> None:
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=1, per_topic=3))
    api.configure(tenant, stage_1_batch_size=1, within_stage_delay=60, between_stage_delay=0)
    run_id = api.run_now(tenant).json()["run_id"]
    processing = _wait(lambda: (_get(api, tenant, "current_processing")["processing"] or {}).get("processed") and
                       _get(api, tenant, "current_processing")["processing"])
    assert processing["run_id"] == run_id
    assert (processing["stage"], processing["stage_name"]) == (1, "keywords_to_clusters")
    assert (processing["processed"], processing["total"]) == (1, 3)
    assert len(processing["items"]) == 1 and set(processing["items"][0]) == {"id", "title"}
    assert processing["items"][0]["title"] in keyword_set(topics=1, per_topic=3)
    assert _control(api, tenant, "cancel", run_id).status_code == 202
    api.wait_status(tenant, run_id, "cancelled")
    assert _get(api, tenant, "current_processing") == {"processing": None}


def test_pause_resume_cancel_and_their_invalid_transitions(api: Api) -> None:
    tenant, run_id = _held_run(api)
    api.wait_run(tenant, run_id, lambda r: r["stage_results"].get("1", {}).get("completed_at"))
    assert_error(_control(api, tenant, "resume", run_id), 400, "invalid_transition")

    answer = _control(api, tenant, "pause", run_id)
    assert answer.status_code == 202 and answer.json() == {"run_id": run_id, "command": "pause"}
    paused = api.wait_status(tenant, run_id, "paused")
    assert paused["paused_at"] and _get(api, tenant, "current_run")["run"]["status"] == "paused"
    assert_error(_control(api, tenant, "pause", run_id), 400, "invalid_transition")
    assert_error(api.run_now(tenant), 400, "run_active")

    assert _control(api, tenant, "resume", run_id).json() == {"run_id": run_id, "command": "resume"}
    assert api.wait_status(tenant, run_id, "running")["resumed_at"]

    assert _control(api, tenant, "cancel", run_id).json() == {"run_id": run_id, "command": "cancel"}
    cancelled = api.wait_status(tenant, run_id, "cancelled")
    assert cancelled["cancelled_at"] and _get(api, tenant, "current_run") == {"run": None}
    for action in ("pause", "resume", "cancel"):
        error = assert_error(_control(api, tenant, action, run_id), 400, "invalid_transition")
        assert error["details"] == {"status": "cancelled"}


def test_a_paused_run_can_be_cancelled(api: Api) -> None:
    tenant, run_id = _held_run(api, keywords=0)
    assert _control(api, tenant, "pause", run_id).status_code == 202
    api.wait_status(tenant, run_id, "paused")
    assert _control(api, tenant, "cancel", run_id).status_code == 202
    assert api.wait_status(tenant, run_id, "cancelled")["status"] == "cancelled"


def test_a_completed_run_cannot_be_paused_resumed_or_cancelled(api: Api) -> None:
    tenant = api.tenant()
    api.configure(tenant, **FAST)
    run_id = api.run_now(tenant).json()["run_id"]
    api.wait_status(tenant, run_id, "completed")
    for action in ("pause", "resume", "cancel"):
        assert_error(_control(api, tenant, action, run_id), 400, "invalid_transition")


def test_members_steer_runs(api: Api) -> None:
    owner = api.tenant()
    api.configure(owner, **HELD)
    member = Tenant(owner.account_id, owner.site_id, api.tenant(role="member", account_id=owner.account_id).token)
    run_id = api.run_now(member).json()["run_id"]
    assert _control(api, member, "pause", run_id).status_code == 202
    api.wait_status(member, run_id, "paused")
    assert _control(api, member, "cancel", run_id).status_code == 202
    api.wait_status(member, run_id, "cancelled")
