"""The ``data`` of each event type on ``automation.events`` (CONTRACT §5, §7), schema version 1.

Unknown fields are kept (``extra="allow"``): a producer may add fields without a new
schema version, and a consumer that re-serialises an event must not drop them. A field
added after version 1 first shipped is optional, so events stored before it still parse.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

StageNumber = int


def content_path(site_id: str, content_id: str) -> str:
    """The API path of one content item: ``ContentReadyForReview.data.content_url``."""
    return f"/api/v1/sites/{site_id}/content/{content_id}"


class EventData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")


class RunStartedData(EventData):
    site_id: str
    account_id: str
    trigger_type: Literal["manual", "scheduled"]
    config: dict[str, Any] = Field(description="The site's automation config as the run took it")
    reserved_credits: int
    estimated_credits: int


class StageStartedData(EventData):
    stage: StageNumber
    name: str
    items_total: int


class BatchItem(EventData):
    id: str
    title: str


class BatchStartedData(EventData):
    stage: StageNumber
    batch_id: str | None = None
    # Added in automation-events 1.2 (additive): how many items the batch has; `items` names at most the first 50.
    item_count: int | None = None
    items: list[BatchItem]


class BatchProcessedData(EventData):
    stage: StageNumber
    batch_id: str | None = None
    processed: int
    failed: int
    outputs_created: int
    credits: int


class ItemFailedData(EventData):
    stage: StageNumber
    item_id: str
    title: str = ""
    error: str


class CreditsUsedData(EventData):
    stage: StageNumber
    credits: int


class StageCompletedData(EventData):
    """The stage result, as in the Run's ``stage_results``."""

    stage: StageNumber
    name: str
    items_total: int
    items_processed: int
    items_failed: int
    outputs_created: int
    credits_used: int
    started_at: str
    completed_at: str | None
    partial: bool


class ContentReadyForReviewData(EventData):
    content_id: str
    title: str
    # Added in schema version 1 after it first shipped (additive): absent from older events.
    site_id: str | None = None
    content_url: str | None = Field(
        default=None, description="API path of the content item: GET it with an account token"
    )


class RunPausedData(EventData):
    reason: str
    stage: StageNumber


class RunResumedData(EventData):
    stage: StageNumber


class RunCancelledData(EventData):
    reason: str
    stage: StageNumber


class RunCompletedData(EventData):
    total_credits_used: int


class RunFailedData(EventData):
    error_message: str
    stage: StageNumber
