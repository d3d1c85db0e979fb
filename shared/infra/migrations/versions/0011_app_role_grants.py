"""The application's role gets its rights whenever it exists, not only if it did at 0007.

``make services``, the demo and the docker-compose deployment now create the login role
``automation_app`` beside the owner, and the services connect as it. A database migrated
before the role existed (0007 skipped its grants) gets them here, and the tables of 0008 and
0009 with them (0007's default privileges reach only tables made after it, and only where
the role already existed).

``grant_app_role()`` holds the grants; the migrations' env.py calls it after every
``automation db upgrade``, so a role created later still gets them on the next upgrade. It
grants everything the services use (rows of every table, sequences, functions, the table
lock of the event store through MAINTAIN) except UPDATE, DELETE and TRUNCATE of the stored
events and checkpoints, DELETE and TRUNCATE of the run heads, and any write to
``alembic_version``. A revision that adds an append-only table replaces the function.

Revision ID: 0011_app_role_grants
Revises: 0010_keyword_cluster_index
"""

from shared.infra.migrations import execute_sql

revision = "0011_app_role_grants"
down_revision = "0010_keyword_cluster_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql("""
        CREATE FUNCTION grant_app_role() RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'automation_app') THEN
                RETURN false;
            END IF;
            EXECUTE 'GRANT CONNECT ON DATABASE ' || quote_ident(current_database()) || ' TO automation_app';
            GRANT USAGE ON SCHEMA public TO automation_app;
            GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO automation_app;
            GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO automation_app;
            GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO automation_app;
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
        END
        $$;
        REVOKE EXECUTE ON FUNCTION grant_app_role() FROM PUBLIC;
        SELECT grant_app_role();
    """)


def downgrade() -> None:
    # The grants stay as 0007 would leave them; 0007's downgrade revokes them all.
    execute_sql("DROP FUNCTION grant_app_role();")
