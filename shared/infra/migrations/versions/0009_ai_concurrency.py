"""AI calls in flight: a site's ``ai_concurrency``, an account's ``max_ai_concurrency``, and
the account's slots leased to its running runs.

The account's ceiling holds across every pipeline process, so its slots are counted here:
each run holds one lease row (slots granted, slots wanted, an expiry it renews). A process
that dies stops renewing, and its leases lapse after their time-to-live. ``lease_ai_slots``
locks the account row, so two runs never both take the last slot; a run is granted at most
its fair share while others wait, so all the account's running runs share the ceiling.

Revision ID: 0009_ai_concurrency
Revises: 0008_dead_letters_and_api_limits
"""

from shared.infra.migrations import execute_sql

revision = "0009_ai_concurrency"
down_revision = "0008_dead_letters_and_api_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql("""
        ALTER TABLE automation_config ADD COLUMN ai_concurrency int NOT NULL DEFAULT 8
            CONSTRAINT ai_concurrency_range CHECK (ai_concurrency BETWEEN 1 AND 64);
        ALTER TABLE accounts ADD COLUMN max_ai_concurrency int NOT NULL DEFAULT 16
            CONSTRAINT max_ai_concurrency_range CHECK (max_ai_concurrency BETWEEN 1 AND 256);

        CREATE TABLE ai_slot_leases (
            account_id  text NOT NULL REFERENCES accounts(id),
            holder      text NOT NULL,
            slots       int NOT NULL CHECK (slots >= 0),
            wanted      int NOT NULL CHECK (wanted >= 0),
            expires_at  timestamptz NOT NULL,
            PRIMARY KEY (account_id, holder)
        );

        -- Grants the holder up to p_wanted slots of the account and returns how many;
        -- p_wanted = 0 gives its lease back.
        CREATE FUNCTION lease_ai_slots(p_account text, p_holder text, p_wanted int, p_ttl_seconds double precision)
        RETURNS int LANGUAGE plpgsql AS $$
        DECLARE
            ceiling int;
            others_slots int;
            others_wanted int;
            contenders int;
            granted int;
        BEGIN
            SELECT max_ai_concurrency INTO ceiling FROM accounts WHERE id = p_account FOR UPDATE;
            IF ceiling IS NULL OR p_wanted <= 0 THEN
                DELETE FROM ai_slot_leases WHERE account_id = p_account AND holder = p_holder;
                RETURN 0;
            END IF;
            DELETE FROM ai_slot_leases WHERE account_id = p_account AND expires_at < clock_timestamp();
            SELECT COALESCE(sum(slots), 0), COALESCE(sum(wanted), 0), count(*)
              INTO others_slots, others_wanted, contenders
              FROM ai_slot_leases WHERE account_id = p_account AND holder <> p_holder;
            -- What is free now, and no more than a fair share of what the others want too.
            granted := GREATEST(0, LEAST(p_wanted, ceiling - others_slots,
                                         GREATEST(ceiling / (contenders + 1), ceiling - others_wanted, 1)));
            INSERT INTO ai_slot_leases (account_id, holder, slots, wanted, expires_at)
            VALUES (p_account, p_holder, granted, p_wanted, clock_timestamp() + make_interval(secs => p_ttl_seconds))
            ON CONFLICT (account_id, holder) DO UPDATE
              SET slots = EXCLUDED.slots, wanted = EXCLUDED.wanted, expires_at = EXCLUDED.expires_at;
            RETURN granted;
        END;
        $$;
    """)


def downgrade() -> None:
    execute_sql("""
        DROP FUNCTION lease_ai_slots(text, text, int, double precision);
        DROP TABLE ai_slot_leases;
        ALTER TABLE accounts DROP COLUMN max_ai_concurrency;
        ALTER TABLE automation_config DROP COLUMN ai_concurrency;
    """)
