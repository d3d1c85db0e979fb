"""Runs the migrations on one connection, in one transaction, under an advisory lock."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

from shared.infra.migrate import MIGRATION_LOCK_KEY, SCHEMA_CHANGE_SETTING, sqlalchemy_url
from shared.infra.settings import get_settings

if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: the SQL is in versions/ as it is")

# `automation db upgrade` passes the URL; the `alembic` command (alembic.ini) reads DATABASE_URL.
database_url = context.config.attributes.get("database_url") or get_settings().migration_database_url
engine = create_engine(sqlalchemy_url(database_url), poolclass=pool.NullPool)
try:
    # One transaction for all pending revisions (PostgreSQL's DDL is transactional): an upgrade
    # applies completely or not at all. A concurrent upgrade waits on the lock, then finds the
    # version the first one committed and has nothing left to do.
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        # Lets a revision rewrite the append-only tables (0008); the services never set it.
        connection.execute(text(f"SET LOCAL {SCHEMA_CHANGE_SETTING} = 'on'"))
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        # At every upgrade, even one with nothing to apply: an application role created after
        # the revisions ran gets its rights too (0011_app_role_grants). Only the owner may.
        if connection.execute(text(
                "SELECT has_function_privilege(to_regprocedure('grant_app_role()')::oid, 'EXECUTE')")).scalar():
            connection.execute(text("SELECT grant_app_role()"))
finally:
    engine.dispose()
