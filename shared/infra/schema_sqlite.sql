-- The embedded (SQLite) twin of schema.sql for `automation demo`: the tables the pipeline
-- and the projector use, with the same names, constraint names and pending_items view
-- (no api_tokens or schedule_slots: the embedded mode has no API writes and no scheduler).
-- The event store's own table is created by the eventsourcing library. Applied with
-- executescript; every statement is idempotent.
--
-- Differences from PostgreSQL, and why:
-- - times are ISO 8601 UTC text (SQLite has no timestamptz); jsonb is JSON text; bytea is BLOB;
--   booleans are 0/1.
-- - SQLite has no stored procedures, so the credit movements are triggers on credit_ledger:
--   inserting the ledger row is the movement (one statement, like `SELECT debit_credits(...)`),
--   and the CHECK constraints on accounts refuse an overdraw by the same names.
-- - REFERENCES are documentation here: SQLite enforces them only with PRAGMA foreign_keys.

CREATE TABLE IF NOT EXISTS accounts (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    credits     integer NOT NULL,
    reserved    integer NOT NULL DEFAULT 0,
    created_at  text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT credits_not_negative CHECK (credits >= 0),
    CONSTRAINT reserved_not_negative CHECK (reserved >= 0),
    CONSTRAINT reservations_covered CHECK (reserved <= credits)
);

CREATE TABLE IF NOT EXISTS run_reservations (
    run_id      text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts(id),
    remaining   integer NOT NULL CHECK (remaining >= 0)
);

CREATE TABLE IF NOT EXISTS credit_ledger (
    id          integer PRIMARY KEY AUTOINCREMENT,
    entry_key   text NOT NULL UNIQUE,
    account_id  text NOT NULL REFERENCES accounts(id),
    kind        text NOT NULL,  -- topup | reserve | debit | release
    amount      integer NOT NULL,
    run_id      text,
    stage       integer,
    created_at  text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS credit_ledger_run ON credit_ledger (run_id);

CREATE TABLE IF NOT EXISTS sites (
    id          text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts(id),
    name        text NOT NULL,
    domain      text NOT NULL,
    created_at  text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE IF NOT EXISTS automation_config (
    site_id              text PRIMARY KEY REFERENCES sites(id),
    is_enabled           integer NOT NULL DEFAULT 0,
    frequency            text NOT NULL DEFAULT 'daily'
                         CHECK (frequency IN ('daily', 'weekly', 'monthly')),
    scheduled_time       text NOT NULL DEFAULT '02:00',
    stage_1_batch_size   integer NOT NULL DEFAULT 20 CHECK (stage_1_batch_size >= 1),
    stage_2_batch_size   integer NOT NULL DEFAULT 1 CHECK (stage_2_batch_size >= 1),
    stage_3_batch_size   integer NOT NULL DEFAULT 20 CHECK (stage_3_batch_size >= 1),
    stage_4_batch_size   integer NOT NULL DEFAULT 1 CHECK (stage_4_batch_size >= 1),
    stage_5_batch_size   integer NOT NULL DEFAULT 1 CHECK (stage_5_batch_size >= 1),
    stage_6_batch_size   integer NOT NULL DEFAULT 1 CHECK (stage_6_batch_size >= 1),
    within_stage_delay   real NOT NULL DEFAULT 3 CHECK (within_stage_delay >= 0),
    between_stage_delay  real NOT NULL DEFAULT 5 CHECK (between_stage_delay >= 0),
    last_run_at          text,
    next_run_at          text,
    updated_at           text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE IF NOT EXISTS keywords (
    id            text PRIMARY KEY,
    site_id       text NOT NULL REFERENCES sites(id),
    keyword       text NOT NULL,
    keyword_norm  text NOT NULL,
    volume        integer,
    difficulty    integer,
    intent        text,
    cluster_id    text,
    status        text NOT NULL DEFAULT 'new',
    created_at    text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (site_id, keyword_norm)
);
CREATE INDEX IF NOT EXISTS keywords_pending ON keywords (site_id, created_at) WHERE cluster_id IS NULL;
CREATE INDEX IF NOT EXISTS keywords_cluster ON keywords (cluster_id);

CREATE TABLE IF NOT EXISTS clusters (
    id           text PRIMARY KEY,
    site_id      text NOT NULL REFERENCES sites(id),
    name         text NOT NULL,
    description  text NOT NULL,
    run_id       text,
    created_at   text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS clusters_site ON clusters (site_id, created_at);

CREATE TABLE IF NOT EXISTS ideas (
    id           text PRIMARY KEY,
    site_id      text NOT NULL REFERENCES sites(id),
    cluster_id   text NOT NULL REFERENCES clusters(id),
    position     integer NOT NULL,
    title        text NOT NULL,
    description  text NOT NULL,
    status       text NOT NULL DEFAULT 'new',
    created_at   text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (cluster_id, position)
);
CREATE INDEX IF NOT EXISTS ideas_site ON ideas (site_id, created_at);

CREATE TABLE IF NOT EXISTS tasks (
    id          text PRIMARY KEY,
    site_id     text NOT NULL REFERENCES sites(id),
    idea_id     text NOT NULL UNIQUE REFERENCES ideas(id),
    title       text NOT NULL,
    status      text NOT NULL DEFAULT 'queued',
    created_at  text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS tasks_site ON tasks (site_id, created_at);

CREATE TABLE IF NOT EXISTS content (
    id           text PRIMARY KEY,
    site_id      text NOT NULL REFERENCES sites(id),
    task_id      text NOT NULL UNIQUE REFERENCES tasks(id),
    title        text NOT NULL,
    body         text NOT NULL,
    word_count   integer NOT NULL,
    status       text NOT NULL DEFAULT 'draft',
    prompts_done integer NOT NULL DEFAULT 0,
    created_at   text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS content_site ON content (site_id, created_at);

CREATE TABLE IF NOT EXISTS images (
    id          text PRIMARY KEY,
    site_id     text NOT NULL REFERENCES sites(id),
    content_id  text NOT NULL REFERENCES content(id),
    position    integer NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('featured', 'in_article')),
    prompt      text NOT NULL,
    status      text NOT NULL DEFAULT 'pending',
    url         text,
    png         blob,
    created_at  text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (content_id, position)
);
CREATE INDEX IF NOT EXISTS images_site ON images (site_id, created_at);
CREATE INDEX IF NOT EXISTS images_content ON images (content_id, status);

CREATE TABLE IF NOT EXISTS command_log (
    command_id  text PRIMARY KEY,
    type        text NOT NULL,
    site_id     text NOT NULL,
    run_id      text,
    outcome     text NOT NULL,
    error_code  text,
    details     text NOT NULL DEFAULT '{}',
    created_at  text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- How far the in-process relay has projected the event store's notification log.
CREATE TABLE IF NOT EXISTS projection_position (
    name      text PRIMARY KEY,
    position  integer NOT NULL
);

-- Read models, as the projector writes them (see services/projector/sqlite_writer.py).
CREATE TABLE IF NOT EXISTS run_view (
    run_id              text PRIMARY KEY,
    site_id             text NOT NULL,
    account_id          text NOT NULL,
    trigger_type        text NOT NULL,
    status              text NOT NULL,
    current_stage       integer NOT NULL,
    started_at          text NOT NULL,
    paused_at           text,
    resumed_at          text,
    cancelled_at        text,
    completed_at        text,
    total_credits_used  integer NOT NULL DEFAULT 0,
    error_message       text,
    pause_reason        text,
    stage_results       text NOT NULL DEFAULT '{}',
    processing          text,
    last_sequence       integer NOT NULL
);
CREATE INDEX IF NOT EXISTS run_view_site ON run_view (site_id, started_at DESC);

CREATE TABLE IF NOT EXISTS run_events (
    run_id       text NOT NULL,
    sequence     integer NOT NULL,
    event_id     text NOT NULL,
    type         text NOT NULL,
    occurred_at  text NOT NULL,
    data         text NOT NULL,
    hash         text NOT NULL,
    prev_hash    text NOT NULL,
    PRIMARY KEY (run_id, sequence)
);

CREATE TABLE IF NOT EXISTS run_log_lines (
    run_id    text NOT NULL,
    sequence  integer NOT NULL,
    line_no   integer NOT NULL,
    line      text NOT NULL,
    PRIMARY KEY (run_id, sequence, line_no)
);

CREATE TABLE IF NOT EXISTS pipeline_runs (
    run_id      text PRIMARY KEY,
    site_id     text NOT NULL,
    account_id  text NOT NULL,
    status      text NOT NULL,
    updated_at  text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE IF NOT EXISTS run_item_failures (
    run_id   text NOT NULL,
    stage    integer NOT NULL,
    item_id  text NOT NULL,
    PRIMARY KEY (run_id, stage, item_id)
);

-- Credit movements: reserve_credits / debit_credits / release_reservation of schema.sql.
CREATE TRIGGER IF NOT EXISTS ledger_reserve AFTER INSERT ON credit_ledger
WHEN NEW.kind = 'reserve'
BEGIN
    INSERT INTO run_reservations (run_id, account_id, remaining) VALUES (NEW.run_id, NEW.account_id, NEW.amount);
    UPDATE accounts SET reserved = reserved + NEW.amount WHERE id = NEW.account_id;
END;

-- A debit takes what it can from the run's reservation (min(remaining, amount)) and the rest
-- from the free balance; the accounts update comes first because it reads the reservation
-- as it was before this debit.
CREATE TRIGGER IF NOT EXISTS ledger_debit AFTER INSERT ON credit_ledger
WHEN NEW.kind = 'debit'
BEGIN
    UPDATE accounts
    SET credits = credits - NEW.amount,
        reserved = reserved - COALESCE(
            (SELECT min(r.remaining, NEW.amount) FROM run_reservations r WHERE r.run_id = NEW.run_id), 0)
    WHERE id = NEW.account_id;
    UPDATE run_reservations SET remaining = remaining - min(remaining, NEW.amount) WHERE run_id = NEW.run_id;
END;

-- Inserted from the reservation itself (amount = what is left), so a run with no
-- reservation left releases nothing, as release_reservation does.
CREATE TRIGGER IF NOT EXISTS ledger_release AFTER INSERT ON credit_ledger
WHEN NEW.kind = 'release'
BEGIN
    UPDATE accounts SET reserved = reserved - NEW.amount WHERE id = NEW.account_id;
    DELETE FROM run_reservations WHERE run_id = NEW.run_id;
END;

CREATE VIEW IF NOT EXISTS pending_items AS
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
