"""The event-sourced AutomationRun: one run of the stages (shared/stages.py) for one site.

Every transition is an event that also extends the run's hash chain, so the
audit trail is tamper-evident from the moment it is recorded. State holds only
counters per stage, never per-item lists, so a run's size does not grow with
the number of items it processes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from services.pipeline.domain.aggregate_copy import PlainDataCopy
from services.pipeline.domain.errors import InvalidTransition
from shared.stages import FIRST_STAGE, LAST_STAGE, next_stage, stage_name
from shared.events.event_data import content_path
from services.pipeline.domain.event_size import (
    MESSAGE_CHARS, TITLE_CHARS, batch_listing, check_size, short_failure, shorten,
)
from shared.events.hashchain import GENESIS_HASH, chain_hash



OPEN_BATCHES = 128  # more than a run's window can hold open at once (ai_concurrency <= 64)


def batch_worker(batch_id: str) -> str:
    """The worker a batch id names: ``worker/batch`` (a bare id: the anonymous worker)."""
    return batch_id.rpartition("/")[0]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _content(run_id: str, sequence: int, type_: str, occurred_at: str, data: dict) -> dict:
    return {
        "run_id": run_id,
        "sequence": sequence,
        "type": type_,
        "occurred_at": occurred_at,
        "data": data,
    }


class RunEvent(Aggregate.Event):
    occurred_at: str
    data: dict
    prev_hash: str
    hash: str

    def apply(self, aggregate: "AutomationRun") -> None:
        aggregate.last_hash = self.hash
        getattr(aggregate, f"_on_{type(self).__name__}")(self.data, self.occurred_at)


class RunStarted(Aggregate.Created):
    occurred_at: str
    data: dict
    prev_hash: str
    hash: str


class StageStarted(RunEvent): ...
class BatchStarted(RunEvent): ...
class BatchProcessed(RunEvent): ...
class ItemFailed(RunEvent): ...
class CreditsUsed(RunEvent): ...
class StageCompleted(RunEvent): ...
class ContentReadyForReview(RunEvent): ...
class RunPaused(RunEvent): ...
class RunResumed(RunEvent): ...
class RunCancelled(RunEvent): ...
class RunCompleted(RunEvent): ...
class RunFailed(RunEvent): ...


class AutomationRun(PlainDataCopy, Aggregate):
    @classmethod
    def start(
        cls,
        *,
        run_id: str,
        site_id: str,
        account_id: str,
        trigger_type: str,
        config: dict[str, Any],
        reserved_credits: int,
        estimated_credits: int,
        now: datetime,
    ) -> "AutomationRun":
        data = {
            "site_id": site_id,
            "account_id": account_id,
            "trigger_type": trigger_type,
            "config": config,
            "reserved_credits": reserved_credits,
            "estimated_credits": estimated_credits,
        }
        occurred_at = _iso(now)
        content = _content(run_id, cls.INITIAL_VERSION, "RunStarted", occurred_at, data)
        check_size("RunStarted", content)
        return cls._create(
            RunStarted,
            id=UUID(run_id),
            occurred_at=occurred_at,
            data=data,
            prev_hash=GENESIS_HASH,
            hash=chain_hash(GENESIS_HASH, content),
        )

    def __init__(self, occurred_at: str, data: dict, prev_hash: str, hash: str) -> None:
        self.last_hash = hash
        self.site_id: str = data["site_id"]
        self.account_id: str = data["account_id"]
        self.trigger_type: str = data["trigger_type"]
        self.config: dict[str, Any] = data["config"]
        self.reserved_credits: int = data["reserved_credits"]
        self.status = "running"
        self.current_stage = FIRST_STAGE
        self.started_at = occurred_at
        self.paused_at: str | None = None
        self.resumed_at: str | None = None
        self.cancelled_at: str | None = None
        self.completed_at: str | None = None
        self.total_credits_used = 0
        self.error_message: str | None = None
        self.pause_reason: str | None = None
        self.stage_results: dict[str, dict[str, Any]] = {}
        # Batches announced and not yet recorded, oldest first: a run keeps several in flight.
        self.open_batches: list[str] = []

    @property
    def run_id(self) -> str:
        return str(self.id)

    # --- commands -----------------------------------------------------------------

    def start_stage(self, stage: int, items_total: int, now: datetime) -> None:
        self._require_status("running", action="start a stage")
        self._record(StageStarted, {"stage": stage, "name": stage_name(stage), "items_total": items_total}, now)

    def start_batch(self, stage: int, items: list[dict[str, str]], batch_id: str, now: datetime) -> None:
        """Announce a batch before its AI calls; only this batch may then be recorded.
        The event counts the batch's items and names only the first few."""
        self._require_status("running", action="start a batch")
        self._require_current_stage(stage)
        self._record(BatchStarted, {"stage": stage, "batch_id": batch_id, **batch_listing(items)}, now)

    def process_batch(
        self,
        *,
        batch_id: str,
        stage: int,
        processed: int,
        failures: list[dict[str, str]],
        outputs_created: int,
        credits: int,
        now: datetime,
        ready_for_review: list[tuple[str, str]] = (),
    ) -> None:
        """Record the open batch; its outputs and debit commit in the same transaction.

        A batch is recorded once: a retry, or a second worker on the same run, finds it
        closed (or forgotten, being older than the last OPEN_BATCHES) and is refused as a whole.
        """
        self._require_status("running", "paused", action="record a batch")
        self._require_current_stage(stage)
        if batch_id not in self.open_batches:
            raise InvalidTransition("record a batch", self.status, f"batch {batch_id} is not the open one")
        for content_id, title in ready_for_review:
            self._record(ContentReadyForReview, {
                "content_id": content_id, "title": shorten(title, 300), "site_id": self.site_id,
                "content_url": content_path(self.site_id, content_id),
            }, now)
        for failure in failures:
            self._record(ItemFailed, {"stage": stage, **short_failure(failure)}, now)
        if credits:
            self._record(CreditsUsed, {"stage": stage, "credits": credits}, now)
        self._record(
            BatchProcessed,
            {"stage": stage, "batch_id": batch_id, "processed": processed, "failed": len(failures),
             "outputs_created": outputs_created, "credits": credits},
            now,
        )

    def complete_stage(self, stage: int, now: datetime) -> None:
        self._require_status("running", action="complete a stage")
        self._require_current_stage(stage)
        result = dict(self.stage_results[str(stage)], completed_at=_iso(now), partial=False)
        self._record(StageCompleted, result, now)

    def pause(self, reason: str, now: datetime) -> None:
        self._require_status("running", action="pause")
        self._record(RunPaused, {"reason": shorten(reason, TITLE_CHARS), "stage": self.current_stage}, now)

    def resume(self, now: datetime) -> None:
        self._require_status("paused", action="resume")
        self._record(RunResumed, {"stage": self.current_stage}, now)

    def cancel(self, reason: str, now: datetime) -> None:
        self._require_status("running", "paused", action="cancel")
        self._record(RunCancelled, {"reason": shorten(reason, TITLE_CHARS), "stage": self.current_stage}, now)

    def complete(self, now: datetime) -> None:
        self._require_status("running", action="complete")
        if self.current_stage != LAST_STAGE or not self._stage_done(LAST_STAGE):
            raise InvalidTransition("complete", self.status, "the last stage has not completed")
        self._record(RunCompleted, {"total_credits_used": self.total_credits_used}, now)

    def fail(self, error_message: str, now: datetime) -> None:
        self._require_status("running", "paused", action="fail")
        self._record(RunFailed, {"error_message": shorten(error_message, MESSAGE_CHARS), "stage": self.current_stage},
                     now)

    # --- guards -------------------------------------------------------------------

    def _require_status(self, *allowed: str, action: str) -> None:
        if self.status not in allowed:
            raise InvalidTransition(action, self.status)

    def _require_current_stage(self, stage: int) -> None:
        if stage != self.current_stage or str(stage) not in self.stage_results:
            raise InvalidTransition(f"work on stage {stage}", self.status, "not the current stage")

    def _stage_done(self, stage: int) -> bool:
        result = self.stage_results.get(str(stage))
        return bool(result and result["completed_at"] and not result["partial"])

    def _record(self, event_class: type[RunEvent], data: dict, now: datetime) -> None:
        occurred_at = _iso(now)
        sequence = self.version + 1
        content = _content(self.run_id, sequence, event_class.__name__, occurred_at, data)
        check_size(event_class.__name__, content)
        self.trigger_event(
            event_class,
            occurred_at=occurred_at,
            data=data,
            prev_hash=self.last_hash,
            hash=chain_hash(self.last_hash, content),
        )

    # --- state evolution (one handler per event type) -----------------------------

    def _on_StageStarted(self, data: dict, at: str) -> None:
        stage = data["stage"]
        self.current_stage = stage
        previous = self.stage_results.get(str(stage))
        if previous is not None:  # resumed mid-stage: counters carry on
            previous["items_total"] = previous["items_processed"] + previous["items_failed"] + data["items_total"]
            return
        self.stage_results[str(stage)] = {
            "stage": stage, "name": data["name"], "items_total": data["items_total"],
            "items_processed": 0, "items_failed": 0, "outputs_created": 0,
            "credits_used": 0, "started_at": at, "completed_at": None, "partial": False,
        }

    @property
    def open_batch(self) -> str | None:
        """The latest batch announced and not yet recorded."""
        return self.open_batches[-1] if self.open_batches else None

    def _on_BatchStarted(self, data: dict, at: str) -> None:
        # A batch of another worker (a restart, a second process) supersedes every batch the
        # previous one left open, so only one worker can ever record the run's work.
        batch_id = data.get("batch_id") or ""
        kept = [b for b in self.open_batches if batch_worker(b) == batch_worker(batch_id)]
        self.open_batches = [*kept, batch_id][-OPEN_BATCHES:]

    def _on_ItemFailed(self, data: dict, at: str) -> None:
        pass

    def _on_CreditsUsed(self, data: dict, at: str) -> None:
        self.stage_results[str(data["stage"])]["credits_used"] += data["credits"]
        self.total_credits_used += data["credits"]

    def _on_BatchProcessed(self, data: dict, at: str) -> None:
        self.open_batches = [b for b in self.open_batches if b != data["batch_id"]]
        result = self.stage_results[str(data["stage"])]
        result["items_processed"] += data["processed"]
        result["items_failed"] += data["failed"]
        result["outputs_created"] += data["outputs_created"]

    def _on_ContentReadyForReview(self, data: dict, at: str) -> None:
        pass

    def _on_StageCompleted(self, data: dict, at: str) -> None:
        self.stage_results[str(data["stage"])] = dict(data)
        self.current_stage = next_stage(data["stage"]) or self.current_stage

    def _on_RunPaused(self, data: dict, at: str) -> None:
        self.status = "paused"
        self.paused_at = at
        self.pause_reason = data["reason"]
        self._mark_partial()

    def _on_RunResumed(self, data: dict, at: str) -> None:
        self.status = "running"
        self.resumed_at = at
        self.pause_reason = None

    def _on_RunCancelled(self, data: dict, at: str) -> None:
        self.status = "cancelled"
        self.cancelled_at = at
        self._mark_partial()

    def _on_RunCompleted(self, data: dict, at: str) -> None:
        self.status = "completed"
        self.completed_at = at

    def _on_RunFailed(self, data: dict, at: str) -> None:
        self.status = "failed"
        self.error_message = data["error_message"]
        self.completed_at = at
        self._mark_partial()

    def _mark_partial(self) -> None:
        result = self.stage_results.get(str(self.current_stage))
        if result is not None and not result["completed_at"]:
            result["partial"] = True
