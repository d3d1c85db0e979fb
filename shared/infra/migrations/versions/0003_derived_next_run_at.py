"""automation_config.next_run_at goes: it is derived from the schedule whenever the config is
read (shared/schedule.py), so no process has to keep a stored copy from going stale.

Revision ID: 0003_derived_next_run_at
Revises: 0002_schedule_changed_at
"""

from shared.infra.migrations import execute_sql

revision = "0003_derived_next_run_at"
down_revision = "0002_schedule_changed_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql("ALTER TABLE automation_config DROP COLUMN IF EXISTS next_run_at")


def downgrade() -> None:
    # Left empty: the next reader derives it again; nothing reads the stored copy.
    execute_sql("ALTER TABLE automation_config ADD COLUMN IF NOT EXISTS next_run_at timestamptz")
