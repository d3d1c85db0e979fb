"""What the automation endpoints answer (CONTRACT §3.3): config, estimate, runs, logs, events."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from shared.schedule import Frequency
from shared.stages import BATCH_SIZE_KEYS, FIRST_STAGE, LAST_STAGE

RunStatus = Literal["running", "paused", "cancelled", "completed", "failed"]

# One batch size field per configurable stage of the registry.
Config = create_model(
    "Config",
    site_id=(str, ...),
    is_enabled=(bool, ...),
    frequency=(Frequency, ...),
    scheduled_time=(str, Field(examples=["02:00"], description='"HH:MM", UTC')),
    **{key: (int, Field(description="items per unit of work")) for key in BATCH_SIZE_KEYS},
    within_stage_delay=(float, Field(description="seconds")),
    between_stage_delay=(float, Field(description="seconds")),
    ai_concurrency=(int, Field(ge=1, le=64, description="AI calls a run keeps in flight")),
    last_run_at=(datetime | None, Field(description="read-only")),
    next_run_at=(datetime | None, Field(description="read-only")),
)


class Estimate(BaseModel):
    estimated_credits: int
    per_stage: dict[str, int] = Field(description='credits per stage, keyed by stage number ("1"…"7")')
    required_credits: int = Field(description="ceil(1.2 × estimated_credits)")
    available_credits: int
    sufficient: bool
    ai_concurrency: int = Field(ge=1, le=64, description="AI calls a run of the site would keep in flight")


class StageOverview(BaseModel):
    number: int = Field(ge=FIRST_STAGE, le=LAST_STAGE)
    name: str
    pending: int


class PipelineOverview(BaseModel):
    stages: list[StageOverview]


class StageResult(BaseModel):
    stage: int = Field(ge=FIRST_STAGE, le=LAST_STAGE)
    name: str
    items_total: int
    items_processed: int
    items_failed: int
    outputs_created: int
    credits_used: int
    started_at: datetime
    completed_at: datetime | None
    partial: bool = Field(description="true where a pause, cancel or failure ended the stage early")


class Run(BaseModel):
    run_id: str
    site_id: str
    trigger_type: Literal["manual", "scheduled"]
    status: RunStatus
    current_stage: int = Field(ge=FIRST_STAGE, le=LAST_STAGE)
    started_at: datetime
    paused_at: datetime | None
    resumed_at: datetime | None
    cancelled_at: datetime | None
    completed_at: datetime | None
    total_credits_used: int
    error_message: str | None
    pause_reason: str | None = Field(description="why a paused run is paused (extra)")
    stage_results: dict[str, StageResult] = Field(description='keyed "1"…"7", each stage that started')


class RunAdmitted(BaseModel):
    run_id: str
    status: Literal["running"]


class CurrentRun(BaseModel):
    run: Run | None


class History(BaseModel):
    runs: list[Run]
    total: int


class Logs(BaseModel):
    run_id: str
    lines: list[str] = Field(description="oldest first")


class ProcessingItem(BaseModel):
    id: str
    title: str


class ProcessingState(BaseModel):
    run_id: str
    stage: int = Field(ge=FIRST_STAGE, le=LAST_STAGE)
    stage_name: str
    processed: int
    total: int
    items: list[ProcessingItem]


class Processing(BaseModel):
    processing: ProcessingState | None


class ControlAccepted(BaseModel):
    run_id: str
    command: Literal["pause", "resume", "cancel"]


class RunEvent(BaseModel):
    sequence: int = Field(ge=1)
    type: str
    occurred_at: str = Field(description="ISO 8601 UTC, spelled exactly as hashed")
    data: dict[str, Any]
    hash: str
    prev_hash: str


class RunEvents(BaseModel):
    events: list[RunEvent]
    has_more: bool = Field(description="More events follow: ask again with `after_sequence` = the last one's")
