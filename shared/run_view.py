"""How run events shape the run's read model and its log lines. Pure functions."""

from __future__ import annotations

import copy
from typing import Any, Callable

from shared.stages import FIRST_STAGE, next_stage

View = dict[str, Any]
# The projector stores the view every this many events, so a fold as of any moment
# (the API's `as_of`) starts from the nearest one and folds at most this many events.
SNAPSHOT_EVERY = 1000


def evolve(view: View | None, event: dict[str, Any]) -> View:
    """The run's view after ``event``, leaving ``view`` as it was; None before RunStarted."""
    return advance(copy.deepcopy(view), event)


def advance(view: View | None, event: dict[str, Any]) -> View:
    """Like ``evolve``, but changes ``view`` itself: for a caller that folds many events into
    a view it owns, so it copies the view once rather than once an event."""
    kind, data, at = event["type"], event["data"], event["occurred_at"]
    if kind == "RunStarted":
        return {
            "run_id": event["run_id"], "site_id": event["site_id"], "account_id": event["account_id"],
            "trigger_type": data["trigger_type"], "status": "running", "current_stage": FIRST_STAGE,
            "started_at": at, "paused_at": None, "resumed_at": None, "cancelled_at": None,
            "completed_at": None, "total_credits_used": 0, "error_message": None,
            "pause_reason": None, "stage_results": {}, "processing": None,
        }
    assert view is not None, f"{kind} before RunStarted"
    handler = _HANDLERS.get(kind)
    if handler:
        handler(view, data, at)
    return view


def _stage_started(view: View, data: dict, at: str) -> None:
    key = str(data["stage"])
    view["current_stage"] = data["stage"]
    result = view["stage_results"].get(key)
    if result is None:
        view["stage_results"][key] = {
            "stage": data["stage"], "name": data["name"], "items_total": data["items_total"],
            "items_processed": 0, "items_failed": 0, "outputs_created": 0, "credits_used": 0,
            "started_at": at, "completed_at": None, "partial": False,
        }
    else:
        result["items_total"] = result["items_processed"] + result["items_failed"] + data["items_total"]
    _set_processing(view, data["stage"], [])


def _batch_started(view: View, data: dict, at: str) -> None:
    _set_processing(view, data["stage"], data["items"])


def _batch_processed(view: View, data: dict, at: str) -> None:
    result = view["stage_results"][str(data["stage"])]
    result["items_processed"] += data["processed"]
    result["items_failed"] += data["failed"]
    result["outputs_created"] += data["outputs_created"]
    _set_processing(view, data["stage"], (view["processing"] or {}).get("items", []))


def _credits_used(view: View, data: dict, at: str) -> None:
    view["stage_results"][str(data["stage"])]["credits_used"] += data["credits"]
    view["total_credits_used"] += data["credits"]


def _stage_completed(view: View, data: dict, at: str) -> None:
    view["stage_results"][str(data["stage"])] = dict(data)
    view["processing"] = None
    view["current_stage"] = next_stage(data["stage"]) or view["current_stage"]


def _paused(view: View, data: dict, at: str) -> None:
    view.update(status="paused", paused_at=at, pause_reason=data["reason"], processing=None)
    _mark_partial(view)


def _resumed(view: View, data: dict, at: str) -> None:
    view.update(status="running", resumed_at=at, pause_reason=None)


def _cancelled(view: View, data: dict, at: str) -> None:
    view.update(status="cancelled", cancelled_at=at, processing=None)
    _mark_partial(view)


def _completed(view: View, data: dict, at: str) -> None:
    view.update(status="completed", completed_at=at, processing=None)


def _failed(view: View, data: dict, at: str) -> None:
    view.update(status="failed", completed_at=at, error_message=data["error_message"], processing=None)
    _mark_partial(view)


def _mark_partial(view: View) -> None:
    result = view["stage_results"].get(str(view["current_stage"]))
    if result is not None and not result["completed_at"]:
        result["partial"] = True


def _set_processing(view: View, stage: int, items: list[dict]) -> None:
    result = view["stage_results"][str(stage)]
    view["processing"] = {
        "run_id": view["run_id"], "stage": stage, "stage_name": result["name"],
        "processed": result["items_processed"] + result["items_failed"],
        "total": result["items_total"], "items": items,
    }


_HANDLERS = {
    "StageStarted": _stage_started, "BatchStarted": _batch_started,
    "BatchProcessed": _batch_processed, "CreditsUsed": _credits_used,
    "StageCompleted": _stage_completed, "RunPaused": _paused, "RunResumed": _resumed,
    "RunCancelled": _cancelled, "RunCompleted": _completed, "RunFailed": _failed,
}


def log_line(view: View, event: dict[str, Any]) -> str:
    """One human-readable line per event, read against the view after the event."""
    kind, data = event["type"], event["data"]
    stage = data.get("stage")
    name = view["stage_results"].get(str(stage), {}).get("name", "") if stage else ""
    text = _TEXTS.get(kind)
    return f"{event['occurred_at']} {text(view, data, stage, name) if text else kind}"


# Each kind's text from the view after the event, the event's data, its stage and the stage's name.
_TEXTS: dict[str, Callable[[View, dict[str, Any], Any, str], str]] = {
    "RunStarted": lambda view, data, stage, name: (
        f"Run started ({data['trigger_type']}): estimated {data['estimated_credits']} "
        f"credits, {data['reserved_credits']} reserved"),
    "StageStarted": lambda view, data, stage, name: (
        f"Stage {stage} {name} started: {data['items_total']} items pending"),
    "BatchStarted": lambda view, data, stage, name: (
        f"Stage {stage}: batch of {data.get('item_count', len(data['items']))} started: "
        + ", ".join(i["title"][:40] for i in data["items"][:3])
        + (" …" if data.get("item_count", len(data["items"])) > 3 else "")),
    "BatchProcessed": lambda view, data, stage, name: (
        f"Stage {stage}: batch done: {data['processed']} processed, "
        f"{data['failed']} failed, {data['outputs_created']} created, "
        f"{data['credits']} credits"),
    "ItemFailed": lambda view, data, stage, name: (
        f"Stage {stage}: item {data['item_id']} ({data.get('title', '')[:60]}) "
        f"failed: {data['error']}"),
    "CreditsUsed": lambda view, data, stage, name: (
        f"Stage {stage}: {data['credits']} credits used "
        f"(run total {view['total_credits_used']})"),
    "StageCompleted": lambda view, data, stage, name: (
        f"Stage {stage} {name} completed: {data['items_processed']}/"
        f"{data['items_total']} processed, {data['items_failed']} failed, "
        f"{data['outputs_created']} created, {data['credits_used']} credits"),
    "ContentReadyForReview": lambda view, data, stage, name: (
        f"Content {data['content_id']} ready for review: {data['title']}"),
    "RunPaused": lambda view, data, stage, name: f"Run paused at stage {stage} ({data['reason']})",
    "RunResumed": lambda view, data, stage, name: f"Run resumed at stage {stage}",
    "RunCancelled": lambda view, data, stage, name: f"Run cancelled at stage {stage} ({data['reason']})",
    "RunCompleted": lambda view, data, stage, name: f"Run completed: {data['total_credits_used']} credits used",
    "RunFailed": lambda view, data, stage, name: f"Run failed at stage {stage}: {data['error_message']}",
}
