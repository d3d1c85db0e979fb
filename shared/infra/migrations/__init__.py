"""Alembic's script directory: env.py and versions/ (see shared/infra/migrate.py)."""

from pathlib import Path

from alembic import op


def execute_sql(sql: str) -> None:
    """Run SQL exactly as written. op.execute would take ':name' inside a string literal (such as
    `p_run || ':reserve'`) for a bind parameter; the driver gets this text untouched."""
    op.get_bind().exec_driver_sql(sql)


def execute_sql_file(path: Path) -> None:
    execute_sql(path.read_text())
