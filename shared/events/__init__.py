"""Wire schemas shared by every service: commands, events, their JSON Schemas, the hash chain.

Installable on its own as ``automation-events`` (import name ``automation_events``; see
this directory's pyproject.toml and README.md); the services import the same files as
``shared.events``. Depends on pydantic only: ``asyncapi`` needs FastStream, and is not
imported here.
"""

from .commands import CancelRun, Command, PauseRun, ResumeRun, StartRun, parse_command
from .event_data import content_path
from .parsing import parse_event
from .typed import (
    EVENT_TYPES,
    SCHEMA_VERSION,
    BatchProcessed,
    BatchStarted,
    ContentReadyForReview,
    CreditsUsed,
    Envelope,
    Event,
    ItemFailed,
    RunCancelled,
    RunCompleted,
    RunFailed,
    RunPaused,
    RunResumed,
    RunStarted,
    StageCompleted,
    StageStarted,
)

__all__ = [
    "EVENT_TYPES", "SCHEMA_VERSION", "BatchProcessed", "BatchStarted", "CancelRun", "Command",
    "ContentReadyForReview", "CreditsUsed", "Envelope", "Event", "ItemFailed", "PauseRun", "ResumeRun",
    "RunCancelled", "RunCompleted", "RunFailed", "RunPaused", "RunResumed", "RunStarted", "StageCompleted",
    "StageStarted", "StartRun", "content_path", "parse_command", "parse_event",
]
