"""Audit anchors kept outside the event rows, and stored events made append-only.

- ``audit_run_heads``: each run's last sequence and hash, upserted by the event store's
  recorder in the transaction that inserts the events (services/pipeline/adapters/
  event_store.py). Existing runs get theirs from their stored events here.
- ``audit_checkpoints``: a chain over the whole notification log, written by the outbox
  relay (services/pipeline/adapters/audit_checkpoints.py). Checkpoint n covers notification
  ids (from_id, to_id] and hashes them with checkpoint n-1's hash (an HMAC with AUDIT_KEY
  when ``keyed``).
- Append-only: UPDATE, DELETE and TRUNCATE of ``automation_events`` and
  ``audit_checkpoints``, and a head moving backwards or deleted, are refused unless the
  session set ``automation.schema_change`` (only ``automation db upgrade`` sets it: see
  migrations/env.py). That guards against the application's own writes where the services
  and the migrations connect as one role (the default: the local server's role may not
  create roles).
- The application's role: where a role ``automation_app`` exists (an administrator creates
  it), it is granted what the services need and no UPDATE, DELETE or TRUNCATE of the stored
  events or checkpoints, so services connecting as it (DATABASE_URL) can't rewrite them even
  by setting ``automation.schema_change``, while ``db upgrade`` runs as the owner
  (DATABASE_OWNER_URL). A role created after this revision ran gets them from
  0011_app_role_grants and every later upgrade.

Revision ID: 0007_audit_heads_and_roles
Revises: 0006_credits_fixed_work
"""

from shared.infra.migrations import execute_sql

revision = "0007_audit_heads_and_roles"
down_revision = "0006_credits_fixed_work"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql("""
        CREATE TABLE audit_run_heads (
            run_id      uuid PRIMARY KEY,
            sequence    bigint NOT NULL,
            hash        text NOT NULL,
            updated_at  timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO audit_run_heads (run_id, sequence, hash)
        SELECT DISTINCT ON (originator_id) originator_id, originator_version,
               convert_from(state, 'UTF8')::jsonb ->> 'hash'
          FROM automation_events
         WHERE starts_with(topic, 'services.pipeline.domain.run:')
         ORDER BY originator_id, originator_version DESC;

        CREATE TABLE audit_checkpoints (
            number       bigint PRIMARY KEY,
            from_id      bigint NOT NULL,
            to_id        bigint NOT NULL,
            event_count  int NOT NULL,
            prev_hash    text NOT NULL,
            hash         text NOT NULL,
            keyed        boolean NOT NULL,
            created_at   timestamptz NOT NULL DEFAULT now(),
            CHECK (to_id > from_id)
        );

        CREATE FUNCTION audit_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF current_setting('automation.schema_change', true) = 'on' THEN
                RETURN NULL;
            END IF;
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = TG_OP || ' on ' || TG_TABLE_NAME || ' is refused: it is append-only';
        END
        $$;
        CREATE TRIGGER automation_events_append_only
            BEFORE UPDATE OR DELETE OR TRUNCATE ON automation_events
            FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_rewrite();
        CREATE TRIGGER audit_checkpoints_append_only
            BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoints
            FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_rewrite();
        CREATE TRIGGER audit_run_heads_not_deleted
            BEFORE DELETE OR TRUNCATE ON audit_run_heads
            FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_rewrite();

        CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.sequence > OLD.sequence OR current_setting('automation.schema_change', true) = 'on' THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = 'a run head only moves forward: ' || OLD.sequence || ' to ' || NEW.sequence;
        END
        $$;
        CREATE TRIGGER audit_run_heads_forward_only
            BEFORE UPDATE ON audit_run_heads
            FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only();
    """)
    execute_sql(GRANT_APP_ROLE)


# Where an administrator created the application's role (cluster-wide, so not here: the
# owner may lack CREATEROLE), it gets everything but rewriting the append-only tables.
# MAINTAIN (PostgreSQL 17+) lets the event store take its table lock, and nothing more.
# Later tables get the same rights by default; an append-only one revokes them in its revision.
GRANT_APP_ROLE = """
    DO $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'automation_app') THEN
            RETURN;
        END IF;
        EXECUTE 'GRANT CONNECT ON DATABASE ' || quote_ident(current_database()) || ' TO automation_app';
        GRANT USAGE ON SCHEMA public TO automation_app;
        GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO automation_app;
        GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO automation_app;
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO automation_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON automation_events, audit_checkpoints FROM automation_app;
        REVOKE DELETE, TRUNCATE ON audit_run_heads FROM automation_app;
        GRANT MAINTAIN ON automation_events TO automation_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public
            GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO automation_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO automation_app;
    END
    $$;
"""


def downgrade() -> None:
    execute_sql("""
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'automation_app') THEN
                ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM automation_app;
                ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM automation_app;
                REVOKE ALL ON ALL TABLES IN SCHEMA public FROM automation_app;
                REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM automation_app;
            END IF;
        END
        $$;
        DROP TRIGGER automation_events_append_only ON automation_events;
        DROP TABLE audit_checkpoints;
        DROP TABLE audit_run_heads;
        DROP FUNCTION audit_head_forward_only();
        DROP FUNCTION audit_refuse_rewrite();
    """)
