-- The schema as it stood when migrations began: the event store, planner tables, read
-- models and credit functions. Every statement is idempotent (IF NOT EXISTS, OR REPLACE), so
-- that this revision also adopts a database that the services built themselves at start-up
-- before there were migrations.

-- The event store of the `eventsourcing` application "automation" (RunStore), exactly as
-- eventsourcing.postgres (9.5) creates it; the services run it with CREATE_TABLE off, so
-- that no process creates tables. The composite type has no IF NOT EXISTS.
DO $$
BEGIN
    CREATE TYPE stored_event_uuid AS (
        originator_id uuid, originator_version bigint, topic text, state bytea
    );
EXCEPTION WHEN duplicate_object THEN NULL;
END
$$;

CREATE TABLE IF NOT EXISTS automation_events (
    originator_id       uuid NOT NULL,
    originator_version  bigint NOT NULL,
    topic               text,
    state               bytea,
    notification_id     bigserial,
    PRIMARY KEY (originator_id, originator_version)
) WITH (
    autovacuum_enabled = true,
    autovacuum_vacuum_threshold = 100000000,
    autovacuum_vacuum_scale_factor = 0.5,
    autovacuum_analyze_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01
);
CREATE UNIQUE INDEX IF NOT EXISTS automation_events_notification_id_idx
    ON automation_events (notification_id ASC);

-- Called only with POSTGRES_ENABLE_DB_FUNCTIONS; kept so that switching it on needs no DDL.
CREATE OR REPLACE FUNCTION es_insert_events_uuid(events stored_event_uuid[])
RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$
BEGIN
    SET LOCAL lock_timeout = '5s';
    NOTIFY "automation_events";
    RETURN QUERY
    INSERT INTO automation_events AS t (originator_id, originator_version, topic, state)
    SELECT originator_id, originator_version, topic, state FROM unnest(events)
    RETURNING notification_id;
END;
$BODY$;

-- Tenancy and money -------------------------------------------------------------
CREATE TABLE IF NOT EXISTS accounts (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    credits     bigint NOT NULL,
    -- credits promised to admitted runs and not yet spent or released
    reserved    bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT credits_not_negative CHECK (credits >= 0),
    CONSTRAINT reserved_not_negative CHECK (reserved >= 0),
    CONSTRAINT reservations_covered CHECK (reserved <= credits)
);

CREATE TABLE IF NOT EXISTS run_reservations (
    run_id      text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts(id),
    remaining   bigint NOT NULL CHECK (remaining >= 0)
);

-- Every change of a balance, keyed so that a retried write is refused, not repeated.
CREATE TABLE IF NOT EXISTS credit_ledger (
    id          bigserial PRIMARY KEY,
    entry_key   text NOT NULL UNIQUE,
    account_id  text NOT NULL REFERENCES accounts(id),
    kind        text NOT NULL,  -- topup | reserve | debit | release
    amount      bigint NOT NULL,
    run_id      text,
    stage       int,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS credit_ledger_run ON credit_ledger (run_id);

CREATE TABLE IF NOT EXISTS sites (
    id          text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts(id),
    name        text NOT NULL,
    domain      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS sites_account ON sites (account_id);

CREATE TABLE IF NOT EXISTS api_tokens (
    token_hash  text PRIMARY KEY,  -- sha256 of the token; the token itself is never stored
    account_id  text NOT NULL REFERENCES accounts(id),
    role        text NOT NULL CHECK (role IN ('owner', 'member')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS automation_config (
    site_id              text PRIMARY KEY REFERENCES sites(id),
    is_enabled           boolean NOT NULL DEFAULT false,
    frequency            text NOT NULL DEFAULT 'daily'
                         CHECK (frequency IN ('daily', 'weekly', 'monthly')),
    scheduled_time       text NOT NULL DEFAULT '02:00',
    stage_1_batch_size   int NOT NULL DEFAULT 20 CHECK (stage_1_batch_size >= 1),
    stage_2_batch_size   int NOT NULL DEFAULT 1 CHECK (stage_2_batch_size >= 1),
    stage_3_batch_size   int NOT NULL DEFAULT 20 CHECK (stage_3_batch_size >= 1),
    stage_4_batch_size   int NOT NULL DEFAULT 1 CHECK (stage_4_batch_size >= 1),
    stage_5_batch_size   int NOT NULL DEFAULT 1 CHECK (stage_5_batch_size >= 1),
    stage_6_batch_size   int NOT NULL DEFAULT 1 CHECK (stage_6_batch_size >= 1),
    within_stage_delay   double precision NOT NULL DEFAULT 3 CHECK (within_stage_delay >= 0),
    between_stage_delay  double precision NOT NULL DEFAULT 5 CHECK (between_stage_delay >= 0),
    last_run_at          timestamptz,
    next_run_at          timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- Planner and writer data (CONTRACT §3.2, §4) ----------------------------------
CREATE TABLE IF NOT EXISTS keywords (
    id            text PRIMARY KEY,
    site_id       text NOT NULL REFERENCES sites(id),
    keyword       text NOT NULL,
    keyword_norm  text NOT NULL,
    volume        int,
    difficulty    int,
    intent        text,
    cluster_id    text,
    status        text NOT NULL DEFAULT 'new',
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_id, keyword_norm)
);
CREATE INDEX IF NOT EXISTS keywords_pending ON keywords (site_id, created_at) WHERE cluster_id IS NULL;

CREATE TABLE IF NOT EXISTS clusters (
    id           text PRIMARY KEY,
    site_id      text NOT NULL REFERENCES sites(id),
    name         text NOT NULL,
    description  text NOT NULL,
    run_id       text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS clusters_site ON clusters (site_id, created_at);

CREATE TABLE IF NOT EXISTS ideas (
    id           text PRIMARY KEY,
    site_id      text NOT NULL REFERENCES sites(id),
    cluster_id   text NOT NULL REFERENCES clusters(id),
    position     int NOT NULL,
    title        text NOT NULL,
    description  text NOT NULL,
    status       text NOT NULL DEFAULT 'new',  -- new | queued
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (cluster_id, position)
);
CREATE INDEX IF NOT EXISTS ideas_site ON ideas (site_id, created_at);

CREATE TABLE IF NOT EXISTS tasks (
    id          text PRIMARY KEY,
    site_id     text NOT NULL REFERENCES sites(id),
    idea_id     text NOT NULL UNIQUE REFERENCES ideas(id),
    title       text NOT NULL,
    status      text NOT NULL DEFAULT 'queued',  -- queued | completed
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS tasks_site ON tasks (site_id, created_at);

CREATE TABLE IF NOT EXISTS content (
    id          text PRIMARY KEY,
    site_id     text NOT NULL REFERENCES sites(id),
    task_id     text NOT NULL UNIQUE REFERENCES tasks(id),
    title       text NOT NULL,
    body        text NOT NULL,
    word_count  int NOT NULL,
    status      text NOT NULL DEFAULT 'draft',  -- draft | review
    prompts_done boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS content_site ON content (site_id, created_at);

CREATE TABLE IF NOT EXISTS images (
    id          text PRIMARY KEY,
    site_id     text NOT NULL REFERENCES sites(id),
    content_id  text NOT NULL REFERENCES content(id),
    position    int NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('featured', 'in_article')),
    prompt      text NOT NULL,
    status      text NOT NULL DEFAULT 'pending',  -- pending | generated | failed
    url         text,
    png         bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (content_id, position)
);
CREATE INDEX IF NOT EXISTS images_site ON images (site_id, created_at);

-- Messaging bookkeeping ---------------------------------------------------------
-- One row per command the pipeline has decided; a redelivered command finds its row.
CREATE TABLE IF NOT EXISTS command_log (
    command_id  text PRIMARY KEY,
    type        text NOT NULL,
    site_id     text NOT NULL,
    run_id      text,
    outcome     text NOT NULL,  -- accepted | rejected
    error_code  text,
    details     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- How far each relay has published the event store's notification log to Kafka.
CREATE TABLE IF NOT EXISTS outbox_position (
    name      text PRIMARY KEY,
    position  bigint NOT NULL
);

-- A scheduled slot is taken once, by whichever scheduler inserts it first.
CREATE TABLE IF NOT EXISTS schedule_slots (
    site_id     text NOT NULL,
    slot_start  timestamptz NOT NULL,
    outcome     text NOT NULL,  -- started | skipped_active
    run_id      text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, slot_start)
);

-- Read models written by the projector from automation.events -------------------
CREATE TABLE IF NOT EXISTS run_view (
    run_id              text PRIMARY KEY,
    site_id             text NOT NULL,
    account_id          text NOT NULL,
    trigger_type        text NOT NULL,
    status              text NOT NULL,
    current_stage       int NOT NULL,
    started_at          timestamptz NOT NULL,
    paused_at           timestamptz,
    resumed_at          timestamptz,
    cancelled_at        timestamptz,
    completed_at        timestamptz,
    total_credits_used  bigint NOT NULL DEFAULT 0,
    error_message       text,
    pause_reason        text,
    stage_results       jsonb NOT NULL DEFAULT '{}'::jsonb,
    processing          jsonb,
    last_sequence       int NOT NULL
);
CREATE INDEX IF NOT EXISTS run_view_site ON run_view (site_id, started_at DESC);

CREATE TABLE IF NOT EXISTS run_events (
    run_id       text NOT NULL,
    sequence     int NOT NULL,
    event_id     text NOT NULL,
    type         text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    data         jsonb NOT NULL,
    hash         text NOT NULL,
    prev_hash    text NOT NULL,
    PRIMARY KEY (run_id, sequence)
);

CREATE TABLE IF NOT EXISTS run_log_lines (
    run_id    text NOT NULL,
    sequence  int NOT NULL,
    line_no   int NOT NULL,
    line      text NOT NULL,
    PRIMARY KEY (run_id, sequence, line_no)
);

-- Pipeline bookkeeping, written in the same transactions as the run's events -------
-- Which runs are active, so that a process taking over a site's partition finds them.
CREATE TABLE IF NOT EXISTS pipeline_runs (
    run_id      text PRIMARY KEY,
    site_id     text NOT NULL,
    account_id  text NOT NULL,
    status      text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS pipeline_runs_active ON pipeline_runs (status) WHERE status IN ('running', 'paused');

-- Items that failed in a run, so the stage skips them instead of retrying forever.
CREATE TABLE IF NOT EXISTS run_item_failures (
    run_id   text NOT NULL,
    stage    int NOT NULL,
    item_id  text NOT NULL,
    PRIMARY KEY (run_id, stage, item_id)
);

-- Credit movements. The CHECK constraints on accounts are what refuse an overdraw;
-- a duplicate entry_key refuses a repeated movement.
CREATE OR REPLACE FUNCTION reserve_credits(p_account text, p_run text, p_amount bigint)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO credit_ledger (entry_key, account_id, kind, amount, run_id)
    VALUES (p_run || ':reserve', p_account, 'reserve', p_amount, p_run);
    INSERT INTO run_reservations (run_id, account_id, remaining) VALUES (p_run, p_account, p_amount);
    UPDATE accounts SET reserved = reserved + p_amount WHERE id = p_account;
$$;

CREATE OR REPLACE FUNCTION debit_credits(p_account text, p_run text, p_stage int, p_amount bigint, p_key text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    from_reservation bigint;
BEGIN
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
        INSERT INTO credit_ledger (entry_key, account_id, kind, amount, run_id)
        VALUES (p_run || ':release', owner, 'release', left_over, p_run);
    END IF;
END;
$$;

-- What each stage still has to do (CONTRACT §4), one definition for the pipeline,
-- the estimate and the pipeline overview.
CREATE OR REPLACE VIEW pending_items AS
    SELECT 1 AS stage, k.site_id, k.id AS item_id, k.keyword AS title, k.created_at
    FROM keywords k WHERE k.cluster_id IS NULL
    UNION ALL
    SELECT 2, c.site_id, c.id, c.name, c.created_at
    FROM clusters c WHERE NOT EXISTS (SELECT 1 FROM ideas i WHERE i.cluster_id = c.id)
    UNION ALL
    SELECT 3, i.site_id, i.id, i.title, i.created_at
    FROM ideas i WHERE i.status = 'new'
    UNION ALL
    SELECT 4, t.site_id, t.id, t.title, t.created_at
    FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM content c WHERE c.task_id = t.id)
    UNION ALL
    SELECT 5, c.site_id, c.id, c.title, c.created_at
    FROM content c WHERE NOT c.prompts_done
    UNION ALL
    SELECT 6, im.site_id, im.id, im.prompt, im.created_at
    FROM images im WHERE im.status = 'pending'
    UNION ALL
    SELECT 7, c.site_id, c.id, c.title, c.created_at
    FROM content c
    WHERE c.status = 'draft' AND c.prompts_done
      AND NOT EXISTS (SELECT 1 FROM images im WHERE im.content_id = c.id AND im.status = 'pending');
