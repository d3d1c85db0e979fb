"""automation_config.schedule_changed_at: when is_enabled, frequency or scheduled_time last changed.

Slots before it are not due, so a schedule set after today's time starts tomorrow, not at
once. Until now a hand-written ALTER at the end of the start-up schema added it; databases
built by that code have it already, hence IF NOT EXISTS. Existing rows keep NULL: the
scheduler holds back none of their slots, as before.

Revision ID: 0002_schedule_changed_at
Revises: 0001_baseline
"""

from shared.infra.migrations import execute_sql

revision = "0002_schedule_changed_at"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql("ALTER TABLE automation_config ADD COLUMN IF NOT EXISTS schedule_changed_at timestamptz")


def downgrade() -> None:
    execute_sql("ALTER TABLE automation_config DROP COLUMN schedule_changed_at")
