"""Money that can't leak: every ledger entry moves a positive amount, and a run's work is
fixed at its admission.

- ``credit_ledger`` gets ``CHECK (amount > 0)``. Entries of 0 said nothing and were written by
  a reservation of 0 (a run with nothing to price), its release, and an account opened with 0
  credits; the credit functions now skip those, the API skips the opening entry, and rows of 0
  already written are dropped first.
- ``pipeline_runs.admitted_at``: the database's time of the admission transaction. Stage 1
  of a run takes only keywords created at or before it, so keywords imported while a run is
  active wait for the next run and the reservation admission made really is a cap. Runs
  admitted before this revision keep NULL and see every keyword, as they did.

Revision ID: 0006_credits_fixed_work
Revises: 0005_ai_rate_limit
"""

from shared.infra.migrations import execute_sql

revision = "0006_credits_fixed_work"
down_revision = "0005_ai_rate_limit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql("""
        DELETE FROM credit_ledger WHERE amount = 0;
        ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_amount_positive CHECK (amount > 0);
        ALTER TABLE pipeline_runs ADD COLUMN admitted_at timestamptz;

        CREATE OR REPLACE FUNCTION reserve_credits(p_account text, p_run text, p_amount bigint)
        RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            IF p_amount > 0 THEN
                INSERT INTO credit_ledger (entry_key, account_id, kind, amount, run_id)
                VALUES (p_run || ':reserve', p_account, 'reserve', p_amount, p_run);
            END IF;
            INSERT INTO run_reservations (run_id, account_id, remaining) VALUES (p_run, p_account, p_amount);
            UPDATE accounts SET reserved = reserved + p_amount WHERE id = p_account;
        END;
        $$;

        CREATE OR REPLACE FUNCTION debit_credits(p_account text, p_run text, p_stage int, p_amount bigint, p_key text)
        RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
            from_reservation bigint;
        BEGIN
            IF p_amount = 0 THEN
                RETURN;  -- nothing to charge; a negative amount still fails the CHECK
            END IF;
            INSERT INTO credit_ledger (entry_key, account_id, kind, amount, run_id, stage)
            VALUES (p_key, p_account, 'debit', p_amount, p_run, p_stage);
            SELECT LEAST(remaining, p_amount) INTO from_reservation
            FROM run_reservations WHERE run_id = p_run FOR UPDATE;
            from_reservation := COALESCE(from_reservation, 0);
            UPDATE run_reservations SET remaining = remaining - from_reservation WHERE run_id = p_run;
            UPDATE accounts
            SET credits = credits - p_amount, reserved = reserved - from_reservation
            WHERE id = p_account;
        END;
        $$;

        CREATE OR REPLACE FUNCTION release_reservation(p_run text)
        RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
            left_over bigint;
            owner text;
        BEGIN
            DELETE FROM run_reservations WHERE run_id = p_run RETURNING remaining, account_id INTO left_over, owner;
            IF owner IS NOT NULL THEN
                UPDATE accounts SET reserved = reserved - left_over WHERE id = owner;
                IF left_over > 0 THEN
                    INSERT INTO credit_ledger (entry_key, account_id, kind, amount, run_id)
                    VALUES (p_run || ':release', owner, 'release', left_over, p_run);
                END IF;
            END IF;
        END;
        $$;
    """)


def downgrade() -> None:
    # The functions keep skipping entries of 0: harmless under the older schema.
    execute_sql("""
        ALTER TABLE pipeline_runs DROP COLUMN admitted_at;
        ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_amount_positive;
    """)
