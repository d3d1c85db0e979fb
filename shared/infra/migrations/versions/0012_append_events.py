"""One statement appends a save's events: ``append_automation_events``.

The event store's recorder (services/pipeline/adapters/event_store.py) saved its events in
five statements after the side writes, each a trip through psycopg and a message to the
server: the library's ``SET LOCAL lock_timeout``, ``LOCK TABLE``, ``NOTIFY``, its INSERT of
an array of composite values (dumped as text, row by row, in Python) and our upsert of the
run heads. This function does the same in that order, in the caller's transaction, from
one array per column: the same rows in ``automation_events``, the same table lock until
commit (notification ids commit in their order), the same NOTIFY the relay listens for,
then the heads of the runs among them (the recorder passes the hash of each run's last
event beside it), after the events, so a conflicting version fails on the events' key
first, as the aggregate's optimistic concurrency expects.

It runs with the caller's rights (no SECURITY DEFINER): the application's role inserts the
events and takes the lock through the grants of 0007/0011, and the triggers of 0007 hold.

Revision ID: 0012_append_events
Revises: 0011_app_role_grants
"""

from shared.infra.migrations import execute_sql

revision = "0012_append_events"
down_revision = "0011_app_role_grants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql("""
        CREATE FUNCTION append_automation_events(
            p_ids uuid[], p_versions bigint[], p_topics text[], p_states bytea[], p_head_hashes text[],
            p_lock_timeout_seconds int
        ) RETURNS SETOF bigint LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM set_config('lock_timeout', p_lock_timeout_seconds || 's', true);
            LOCK TABLE automation_events IN EXCLUSIVE MODE;
            NOTIFY automation_events;
            RETURN QUERY
                INSERT INTO automation_events (originator_id, originator_version, topic, state)
                SELECT * FROM unnest(p_ids, p_versions, p_topics, p_states)
                RETURNING notification_id;
            -- A hash marks the last event of its run among them: the run's new head.
            INSERT INTO audit_run_heads (run_id, sequence, hash)
                SELECT id, version, hash FROM unnest(p_ids, p_versions, p_head_hashes) AS e (id, version, hash)
                 WHERE hash IS NOT NULL
                ON CONFLICT (run_id) DO UPDATE
                    SET sequence = EXCLUDED.sequence, hash = EXCLUDED.hash, updated_at = now();
        END
        $$;
    """)


def downgrade() -> None:
    execute_sql("DROP FUNCTION append_automation_events(uuid[], bigint[], text[], bytea[], text[], int);")
