"""The live stream's positions (GET /api/v1/automation/stream).

Each site has a position, advanced by the projector in the transaction that writes the
read models; the row stays locked until commit, so within a site positions follow commit
order, and a reader that has position p has seen every log line before it. Each log line
records its site and the position of the event it tells of: the stream's event ids.
Lines written before this revision keep NULL and are never streamed (a NULL is outside
every `stream_position > p`, and the unique index allows many).

Revision ID: 0004_live_stream
Revises: 0003_derived_next_run_at
"""

from shared.infra.migrations import execute_sql

revision = "0004_live_stream"
down_revision = "0003_derived_next_run_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql("""
        CREATE TABLE site_stream_position (
            site_id   text PRIMARY KEY,
            position  bigint NOT NULL
        );
        ALTER TABLE run_log_lines ADD COLUMN site_id text;
        ALTER TABLE run_log_lines ADD COLUMN stream_position bigint;
        CREATE UNIQUE INDEX run_log_lines_stream ON run_log_lines (site_id, stream_position);
    """)


def downgrade() -> None:
    execute_sql("""
        DROP INDEX run_log_lines_stream;
        ALTER TABLE run_log_lines DROP COLUMN stream_position;
        ALTER TABLE run_log_lines DROP COLUMN site_id;
        DROP TABLE site_stream_position;
    """)
