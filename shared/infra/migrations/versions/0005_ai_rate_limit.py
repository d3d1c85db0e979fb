"""The AI provider's rate limit, shared by every pipeline process.

One row per provider holds a token bucket per limit kind (requests, tokens, images) in
GCRA form: `*_full_at` is when that bucket would be full again (any time past: full; a new
row starts at '-infinity'). `last_grant` is the latest time a call was allowed to start (grants
never go back in time), and `cool_down_until` is when the provider may be called again
after it answered 429. All times are the database's clock, so processes on hosts with
skewed clocks still agree. The rule is `services/pipeline/domain/rate_limit.py`, run by
`services/pipeline/adapters/ai/rate_limit_pg.py`.

Revision ID: 0005_ai_rate_limit
Revises: 0004_live_stream
"""

from shared.infra.migrations import execute_sql

revision = "0005_ai_rate_limit"
down_revision = "0004_live_stream"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql("""
        CREATE TABLE ai_rate_limits (
            provider          text PRIMARY KEY,
            requests_full_at  timestamptz NOT NULL DEFAULT '-infinity',
            tokens_full_at    timestamptz NOT NULL DEFAULT '-infinity',
            images_full_at    timestamptz NOT NULL DEFAULT '-infinity',
            last_grant        timestamptz NOT NULL DEFAULT '-infinity',
            cool_down_until   timestamptz NOT NULL DEFAULT '-infinity'
        );
    """)


def downgrade() -> None:
    execute_sql("DROP TABLE ai_rate_limits;")
