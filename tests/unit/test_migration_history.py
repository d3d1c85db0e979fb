"""The migration history is one line: branches merged in parallel must not leave two heads."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory

from shared.infra.migrate import alembic_config, head_revision

pytestmark = pytest.mark.unit


def test_the_history_is_linear_and_numbered_in_order() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [head_revision()], "two heads: renumber one revision onto the other"
    revisions = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert revisions[0] == "0001_baseline"
    assert [int(rev[:4]) for rev in revisions] == list(range(1, len(revisions) + 1)), revisions
