"""Baseline: the schema as the services applied it at start-up before there were migrations.

Revision ID: 0001_baseline
Revises:
"""

from pathlib import Path

from shared.infra.migrations import execute_sql_file

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql_file(Path(__file__).with_suffix(".sql"))


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: drop the database instead")
