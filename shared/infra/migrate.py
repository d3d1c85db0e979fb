"""The database schema's revisions (Alembic, history in shared/infra/migrations/).

`upgrade` brings a database to a revision (`automation db upgrade`, `make services`);
the service processes only call `require_current_schema`, so that a process of one
version never alters tables under processes of another.
"""

from __future__ import annotations

import psycopg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import make_url

HISTORY = "shared.infra:migrations"  # a package resource, so an installed wheel finds it too
# Any constant: concurrent upgrades (two `make services`, a deployment's one-shots) take turns.
MIGRATION_LOCK_KEY = 7_241_001
# The session setting under which the append-only tables (stored events, audit checkpoints)
# accept UPDATE and DELETE: set by the migrations' transaction only.
SCHEMA_CHANGE_SETTING = "automation.schema_change"


class SchemaNotCurrent(RuntimeError):
    """The database is not at the revision this version of the code was written for."""


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", HISTORY)
    # Passed beside the ini options: these would read a %-escaped password as interpolation.
    config.attributes["database_url"] = database_url
    return config


def sqlalchemy_url(database_url: str) -> str:
    """The DSN for SQLAlchemy's psycopg 3 driver (the services' own URLs name no driver)."""
    return make_url(database_url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migration history is empty"
    return head


def current_revision(database_url: str) -> str | None:
    with psycopg.connect(database_url) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except psycopg.errors.UndefinedTable:
            return None
    return row[0] if row else None


def require_current_schema(database_url: str) -> None:
    """Raise SchemaNotCurrent, saying what to do, unless the database is at the head revision."""
    current, head = current_revision(database_url), head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaNotCurrent(
            f"the database has no schema yet (no migration applied; this version needs revision {head}): "
            "run `automation db upgrade` (or `make services`) first")
    if not _known(current):
        raise SchemaNotCurrent(
            f"the database is at revision {current}, which this version does not know (it needs {head}): "
            "a newer version has migrated it, so run that version")
    raise SchemaNotCurrent(
        f"the database schema is at revision {current}, this version needs {head}: "
        "run `automation db upgrade` (or `make services`) first")


def _known(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def exit_unless_current_schema(database_url: str) -> None:
    """At a process's start: exit (status 1) with the reason rather than run on another schema."""
    try:
        require_current_schema(database_url)
    except SchemaNotCurrent as error:
        raise SystemExit(f"not starting: {error}") from None
