"""Commands on ``automation.commands`` (CONTRACT §5): imperative, one schema for every service."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from enum import StrEnum
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

SCHEMA_VERSION = 1


def _now() -> datetime:
    return datetime.now(timezone.utc)


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    command_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    site_id: str
    account_id: str
    run_id: str
    trigger_type: Literal["manual", "scheduled"] = "manual"
    issued_at: datetime = Field(default_factory=_now)
    schema_version: Literal[1] = SCHEMA_VERSION

    @field_validator("run_id")
    @classmethod
    def _run_id_is_a_uuid(cls, value: str) -> str:
        """Runs are event-sourced aggregates keyed by UUID: anything else is refused at the door."""
        return str(uuid.UUID(value))


class StartRun(_Command):
    """Admit and start a run of the seven stages for a site."""

    type: Literal["StartRun"] = "StartRun"


class PauseRun(_Command):
    """Stop a running run before its next AI call; it can be resumed."""

    type: Literal["PauseRun"] = "PauseRun"


class ResumeRun(_Command):
    """Continue a paused run at its recorded stage."""

    type: Literal["ResumeRun"] = "ResumeRun"


class CancelRun(_Command):
    """End a running or paused run for good, aborting AI calls in flight."""

    type: Literal["CancelRun"] = "CancelRun"


Command = Annotated[
    Union[StartRun, PauseRun, ResumeRun, CancelRun], Field(discriminator="type")
]
command_adapter: TypeAdapter[Command] = TypeAdapter(Command)


class Outcome(StrEnum):
    """How a command was decided; ``command_log.outcome`` holds all but ``duplicate``."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"  # decided before: a redelivery changes nothing
    WITHDRAWN = "withdrawn"  # taken back by its sender before anyone decided it


def parse_command(raw: bytes | str | dict) -> Command:
    if isinstance(raw, dict):
        return command_adapter.validate_python(raw)
    return command_adapter.validate_json(raw)
