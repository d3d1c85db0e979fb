"""The command schema refuses what the pipeline could never handle."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from shared.events.commands import PauseRun, parse_command

pytestmark = pytest.mark.unit


def test_a_run_id_must_be_a_uuid() -> None:
    with pytest.raises(ValidationError):
        parse_command({"type": "PauseRun", "command_id": "c", "site_id": "s", "account_id": "a",
                       "run_id": "not-a-uuid"})


def test_a_run_id_is_kept_in_its_canonical_spelling() -> None:
    run_id = uuid.uuid4()
    command = parse_command({"type": "PauseRun", "site_id": "s", "account_id": "a", "run_id": str(run_id).upper()})
    assert isinstance(command, PauseRun) and command.run_id == str(run_id)
