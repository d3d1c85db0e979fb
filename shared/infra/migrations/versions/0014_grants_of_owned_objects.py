"""``grant_app_role()`` grants the application's role the owner's own tables, sequences and
functions in ``public``, one by one, instead of ``ON ALL ... IN SCHEMA public``.

An extension an administrator installs into the application's database lands in ``public``
too: ``CREATE EXTENSION pg_stat_statements``, say, as is usual for finding slow statements.
Its objects belong to the superuser who installed it, and some of its functions
(``pg_stat_statements_reset``) are not executable by PUBLIC: ``GRANT EXECUTE ON ALL FUNCTIONS``
then failed with "permission denied", and with it every later ``automation db upgrade``,
which calls the function at each run (env.py). The grants are otherwise the same, and so
are the revokes after them; objects of other owners keep the rights their owners gave.

Revision ID: 0014_grants_of_owned_objects
Revises: 0013_stage_views_and_output_rows
"""

from shared.infra.migrations import execute_sql

revision = "0014_grants_of_owned_objects"
down_revision = "0013_stage_views_and_output_rows"
branch_labels = None
depends_on = None

# The body of 0011's function up to its grants on the schema's objects, and after them.
_HEAD = """
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'automation_app') THEN
            RETURN false;
        END IF;
        EXECUTE 'GRANT CONNECT ON DATABASE ' || quote_ident(current_database()) || ' TO automation_app';
        GRANT USAGE ON SCHEMA public TO automation_app;
"""
_TAIL = """
        REVOKE UPDATE, DELETE, TRUNCATE ON automation_events, audit_checkpoints FROM automation_app;
        REVOKE DELETE, TRUNCATE ON audit_run_heads FROM automation_app;
        -- The processes only check the schema's revision; the owner's upgrades set it.
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM automation_app;
        GRANT MAINTAIN ON automation_events TO automation_app;
        REVOKE EXECUTE ON FUNCTION grant_app_role() FROM PUBLIC, automation_app;
        -- For tables and sequences the owner makes later, before this runs again.
        ALTER DEFAULT PRIVILEGES IN SCHEMA public
            GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO automation_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO automation_app;
        RETURN true;
"""
# regclass and regprocedure print as qualified, quoted names; no format(): the driver would
# take its %s for a parameter.
_OWNED = """
        FOR rel IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
                         WHERE c.relnamespace = 'public'::regnamespace AND c.relowner = owner_id
                           AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') LOOP
            IF rel.relkind = 'S' THEN
                EXECUTE 'GRANT USAGE, SELECT, UPDATE ON SEQUENCE ' || rel.name || ' TO automation_app';
            ELSE
                EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLE ' || rel.name || ' TO automation_app';
            END IF;
        END LOOP;
        FOR fn IN SELECT p.oid::regprocedure AS name FROM pg_proc p
                        WHERE p.pronamespace = 'public'::regnamespace AND p.proowner = owner_id LOOP
            EXECUTE 'GRANT EXECUTE ON ROUTINE ' || fn.name || ' TO automation_app';
        END LOOP;
"""
_ALL = """
        GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO automation_app;
        GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO automation_app;
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO automation_app;
"""


def _function(declare: str, grants: str) -> str:
    return (f"CREATE OR REPLACE FUNCTION grant_app_role() RETURNS boolean LANGUAGE plpgsql AS $$\n"
            f"    {declare}BEGIN{_HEAD}{grants}{_TAIL}    END\n    $$;\n"
            "    REVOKE EXECUTE ON FUNCTION grant_app_role() FROM PUBLIC;\n"
            "    SELECT grant_app_role();\n")


def upgrade() -> None:
    execute_sql(_function("DECLARE owner_id oid := current_user::regrole; rel record; fn record;\n    ",
                          _OWNED))


def downgrade() -> None:
    execute_sql(_function("", _ALL))
