"""Dead letters, the relay's alarm, the API's rate window and run-view snapshots (issue 11).

- ``dead_letters``: each command or event a consumer set aside because it can never be
  handled (not JSON, wrong types, too large, another account's run): where it was (topic,
  partition, offset, key), its raw bytes cut at 64 KB, its full size and the reason. A
  redelivery of the same record is recorded once (the unique position).
- ``relay_alarms``: one row per relay; set while Kafka refuses an event (which one, why, how
  many times), cleared once it is published. The API's ``/readyz`` reads it.
- ``api_rate_hits``: the accepted rate-limited requests of each account, a sliding window
  every API replica shares; rows older than the window are pruned as the account calls.
- ``run_view_snapshots``: the run view every N events, written by the projector, so ``as_of``
  folds only the tail after the nearest snapshot.

Revision ID: 0008_dead_letters_and_api_limits
Revises: 0007_audit_heads_and_roles
"""

from shared.infra.migrations import execute_sql

revision = "0008_dead_letters_and_api_limits"
down_revision = "0007_audit_heads_and_roles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql("""
        CREATE TABLE dead_letters (
            id           bigserial PRIMARY KEY,
            recorded_at  timestamptz NOT NULL DEFAULT now(),
            consumer     text NOT NULL,
            topic        text NOT NULL,
            "partition"  integer NOT NULL,
            "offset"     bigint NOT NULL,
            key          bytea,
            value        bytea NOT NULL,
            value_size   integer NOT NULL CHECK (value_size >= 0),
            reason       text NOT NULL,
            UNIQUE (consumer, topic, "partition", "offset")
        );
        CREATE TABLE relay_alarms (
            relay        text PRIMARY KEY,
            event_id     text NOT NULL,
            error        text NOT NULL,
            occurrences  bigint NOT NULL DEFAULT 1 CHECK (occurrences > 0),
            raised_at    timestamptz NOT NULL DEFAULT now(),
            last_at      timestamptz NOT NULL DEFAULT now(),
            cleared_at   timestamptz
        );
        CREATE TABLE api_rate_hits (
            account_id  text NOT NULL,
            at          timestamptz NOT NULL
        );
        CREATE INDEX api_rate_hits_window ON api_rate_hits (account_id, at);
        CREATE TABLE run_view_snapshots (
            run_id    text NOT NULL,
            sequence  bigint NOT NULL,
            view      jsonb NOT NULL,
            PRIMARY KEY (run_id, sequence)
        );
    """)


def downgrade() -> None:
    execute_sql("""
        DROP TABLE run_view_snapshots;
        DROP TABLE api_rate_hits;
        DROP TABLE relay_alarms;
        DROP TABLE dead_letters;
    """)
