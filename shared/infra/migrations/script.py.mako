"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""

from shared.infra.migrations import execute_sql

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    execute_sql("""
    """)


def downgrade() -> None:
    execute_sql("""
    """)
