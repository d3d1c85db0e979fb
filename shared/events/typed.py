"""One typed model per event type: the envelope of CONTRACT §5 with its ``data`` typed.

``Envelope`` is the generic form every event fits, whatever its type or version; what
``parse_event`` returns for a type it does not know. (``events.EventEnvelope`` is the
stricter form the projector requires: version 1, with its hash-chain links.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from . import event_data as d
from .events import SCHEMA_VERSION



class Envelope(BaseModel):
    """Any event on ``automation.events``: deduplicate by ``event_id``."""

    model_config = ConfigDict(frozen=True, extra="allow")

    event_id: str
    type: str
    run_id: str
    site_id: str
    account_id: str
    sequence: int = Field(description="The run's events counted from 1, without gaps")
    occurred_at: datetime
    schema_version: int
    data: dict[str, Any]
    # The audit chain (hashchain.py); optional here so that a consumer need not care.
    hash: str | None = None
    prev_hash: str | None = None


class _Typed(Envelope):
    schema_version: Literal[1] = SCHEMA_VERSION


class RunStarted(_Typed):
    type: Literal["RunStarted"] = "RunStarted"
    data: d.RunStartedData


class StageStarted(_Typed):
    type: Literal["StageStarted"] = "StageStarted"
    data: d.StageStartedData


class BatchStarted(_Typed):
    type: Literal["BatchStarted"] = "BatchStarted"
    data: d.BatchStartedData


class BatchProcessed(_Typed):
    type: Literal["BatchProcessed"] = "BatchProcessed"
    data: d.BatchProcessedData


class ItemFailed(_Typed):
    type: Literal["ItemFailed"] = "ItemFailed"
    data: d.ItemFailedData


class CreditsUsed(_Typed):
    type: Literal["CreditsUsed"] = "CreditsUsed"
    data: d.CreditsUsedData


class StageCompleted(_Typed):
    type: Literal["StageCompleted"] = "StageCompleted"
    data: d.StageCompletedData


class ContentReadyForReview(_Typed):
    type: Literal["ContentReadyForReview"] = "ContentReadyForReview"
    data: d.ContentReadyForReviewData


class RunPaused(_Typed):
    type: Literal["RunPaused"] = "RunPaused"
    data: d.RunPausedData


class RunResumed(_Typed):
    type: Literal["RunResumed"] = "RunResumed"
    data: d.RunResumedData


class RunCancelled(_Typed):
    type: Literal["RunCancelled"] = "RunCancelled"
    data: d.RunCancelledData


class RunCompleted(_Typed):
    type: Literal["RunCompleted"] = "RunCompleted"
    data: d.RunCompletedData


class RunFailed(_Typed):
    type: Literal["RunFailed"] = "RunFailed"
    data: d.RunFailedData


EVENT_TYPES: dict[str, type[_Typed]] = {
    model.model_fields["type"].default: model
    for model in (RunStarted, StageStarted, BatchStarted, BatchProcessed, ItemFailed, CreditsUsed,
                  StageCompleted, ContentReadyForReview, RunPaused, RunResumed, RunCancelled,
                  RunCompleted, RunFailed)
}

Event = Annotated[
    Union[RunStarted, StageStarted, BatchStarted, BatchProcessed, ItemFailed, CreditsUsed, StageCompleted,
          ContentReadyForReview, RunPaused, RunResumed, RunCancelled, RunCompleted, RunFailed],
    Field(discriminator="type"),
]
