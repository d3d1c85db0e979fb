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
  migrations/env.py). The services and the migrations connect as one role, which our
  PostgreSQL role may not split (it has no CREATEROLE), so this guards against the
  application's own writes, not against someone who holds the owner's password: that
  needs a second role (docs/ARCHITECTURE.md, "Audit").

Revision ID: 0008_audit_heads_and_roles
Revises: 0004_live_stream
"""

from shared.infra.migrations import execute_sql

revision = "0008_audit_heads_and_roles"
down_revision = "0004_live_stream"
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


def downgrade() -> None:
    execute_sql("""
        DROP TRIGGER automation_events_append_only ON automation_events;
        DROP TABLE audit_checkpoints;
        DROP TABLE audit_run_heads;
        DROP FUNCTION audit_head_forward_only();
        DROP FUNCTION audit_refuse_rewrite();
    """)
