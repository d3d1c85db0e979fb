"""Planner and writer tables as the stages read and write them (psycopg, sync).

Reads run on a cursor of the event store's pool; writes are returned as
side-writes, to be executed in the transaction that records the batch.
"""

from __future__ import annotations

from typing import Any

from services.pipeline.adapters.event_store import SideWrite

_NOT_FAILED = (
    "NOT EXISTS (SELECT 1 FROM run_item_failures f"
    " WHERE f.run_id = %(run_id)s AND f.stage = p.stage AND f.item_id = p.item_id)"
)
_COUNT_PENDING = (
    f"SELECT count(*) AS n FROM pending_items p WHERE p.site_id = %(site_id)s"
    f" AND p.stage = %(stage)s AND {_NOT_FAILED}"
)


def _top_keywords(cluster: str, limit: int) -> str:
    """A cluster's most searched keywords as one array column."""
    return (f"ARRAY(SELECT kw.keyword FROM keywords kw WHERE kw.cluster_id = {cluster}"
            f" ORDER BY kw.volume DESC NULLS LAST, kw.keyword LIMIT {limit})")


def _batch_statement(stage: int) -> str:
    selects = {
        1: "SELECT k.id, k.keyword AS title, k.keyword, k.volume, k.intent FROM keywords k",
        2: f"SELECT c.id, c.name AS title, c.name, c.description, {_top_keywords('c.id', 12)} AS keywords"
           " FROM clusters c",
        3: "SELECT i.id, i.title FROM ideas i",
        4: f"SELECT t.id, t.title, i.description, {_top_keywords('i.cluster_id', 12)} AS keywords"
           " FROM tasks t JOIN ideas i ON i.id = t.idea_id",
        5: "SELECT c.id, c.title, c.body FROM content c",
        6: "SELECT im.id, im.prompt AS title, im.prompt FROM images im",
        7: "SELECT c.id, c.title FROM content c",
    }
    alias = {1: "k", 2: "c", 3: "i", 4: "t", 5: "c", 6: "im", 7: "c"}[stage]
    return (f"{selects[stage]} JOIN pending_items p ON p.item_id = {alias}.id AND p.stage = %(stage)s"
            f" WHERE p.site_id = %(site_id)s AND {_NOT_FAILED}"
            f" ORDER BY p.created_at, p.item_id LIMIT %(limit)s")


def _existing_clusters_statement() -> str:
    return (f"SELECT c.id, c.name, {_top_keywords('c.id', 8)} AS keywords FROM clusters c"
            " WHERE c.site_id = %(site_id)s ORDER BY c.created_at DESC LIMIT %(limit)s")


_AVAILABLE_CREDITS = (
    "SELECT a.credits - a.reserved + COALESCE(r.remaining, 0) AS available FROM accounts a"
    " LEFT JOIN run_reservations r ON r.run_id = %(run_id)s WHERE a.id = %(account_id)s"
)


def count_pending(cur: Any, site_id: str, run_id: str, stage: int) -> int:
    cur.execute(_COUNT_PENDING, {"site_id": site_id, "run_id": run_id, "stage": stage})
    return int(cur.fetchone()["n"])


def load_batch(cur: Any, site_id: str, run_id: str, stage: int, limit: int) -> list[dict[str, Any]]:
    cur.execute(_batch_statement(stage), {"site_id": site_id, "run_id": run_id, "stage": stage, "limit": limit})
    return [dict(row) for row in cur.fetchall()]


def existing_clusters(cur: Any, site_id: str, limit: int = 300) -> list[dict[str, Any]]:
    cur.execute(_existing_clusters_statement(), {"site_id": site_id, "limit": limit})
    return [dict(row) for row in cur.fetchall()]


def available_credits(cur: Any, account_id: str, run_id: str) -> int:
    """What this run may still spend: the account's free balance plus its own reservation."""
    cur.execute(_AVAILABLE_CREDITS, {"account_id": account_id, "run_id": run_id})
    row = cur.fetchone()
    return int(row["available"]) if row else 0


# --- side-writes ----------------------------------------------------------------------


def insert_cluster(cluster_id: str, site_id: str, run_id: str, name: str, description: str) -> SideWrite:
    return (
        "INSERT INTO clusters (id, site_id, name, description, run_id) VALUES (%s, %s, %s, %s, %s)",
        (cluster_id, site_id, name, description, run_id),
    )


def assign_keyword(keyword_id: str, cluster_id: str) -> SideWrite:
    # The IS NULL guard keeps a keyword in the first cluster it was filed into.
    return (
        "UPDATE keywords SET cluster_id = %s, status = 'mapped' WHERE id = %s AND cluster_id IS NULL",
        (cluster_id, keyword_id),
    )


def insert_idea(idea_id: str, site_id: str, cluster_id: str, position: int, title: str, description: str) -> SideWrite:
    return (
        "INSERT INTO ideas (id, site_id, cluster_id, position, title, description) VALUES (%s, %s, %s, %s, %s, %s)",
        (idea_id, site_id, cluster_id, position, title, description),
    )


def queue_idea(task_id: str, site_id: str, idea_id: str, title: str) -> list[SideWrite]:
    return [
        ("INSERT INTO tasks (id, site_id, idea_id, title) VALUES (%s, %s, %s, %s)", (task_id, site_id, idea_id, title)),
        ("UPDATE ideas SET status = 'queued' WHERE id = %s", (idea_id,)),
    ]


def insert_content(content_id: str, site_id: str, task_id: str, title: str, body: str, words: int) -> list[SideWrite]:
    return [
        ("INSERT INTO content (id, site_id, task_id, title, body, word_count) VALUES (%s, %s, %s, %s, %s, %s)",
         (content_id, site_id, task_id, title, body, words)),
        ("UPDATE tasks SET status = 'completed' WHERE id = %s", (task_id,)),
    ]


def insert_image(image_id: str, site_id: str, content_id: str, position: int, kind: str, prompt: str) -> SideWrite:
    return (
        "INSERT INTO images (id, site_id, content_id, position, kind, prompt) VALUES (%s, %s, %s, %s, %s, %s)",
        (image_id, site_id, content_id, position, kind, prompt),
    )


def mark_prompts_done(content_id: str) -> SideWrite:
    return ("UPDATE content SET prompts_done = true WHERE id = %s", (content_id,))


def store_image(image_id: str, status: str, url: str | None, png: bytes | None) -> SideWrite:
    return ("UPDATE images SET status = %s, url = %s, png = %s WHERE id = %s", (status, url, png, image_id))


def mark_for_review(content_id: str) -> SideWrite:
    return ("UPDATE content SET status = 'review' WHERE id = %s AND status = 'draft'", (content_id,))


def record_failure(run_id: str, stage: int, item_id: str) -> SideWrite:
    return (
        "INSERT INTO run_item_failures (run_id, stage, item_id) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        (run_id, stage, item_id),
    )


def debit(account_id: str, run_id: str, stage: int, credits: int, entry_key: str) -> SideWrite:
    return ("SELECT debit_credits(%s, %s, %s, %s, %s)", (account_id, run_id, stage, credits, entry_key))


def reserve(account_id: str, run_id: str, credits: int) -> SideWrite:
    return ("SELECT reserve_credits(%s, %s, %s)", (account_id, run_id, credits))


def release(run_id: str) -> SideWrite:
    return ("SELECT release_reservation(%s)", (run_id,))


def note_run_started(site_id: str, started_at: Any) -> SideWrite:
    """The site's ``last_run_at``: when its latest admitted run started, manual or scheduled."""
    return (
        "UPDATE automation_config SET last_run_at = %s"
        " WHERE site_id = %s AND (last_run_at IS NULL OR last_run_at < %s)",
        (started_at, site_id, started_at),
    )


def set_run_status(run_id: str, site_id: str, account_id: str, status: str) -> SideWrite:
    return (
        "INSERT INTO pipeline_runs (run_id, site_id, account_id, status) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()",
        (run_id, site_id, account_id, status),
    )


def log_command(command: Any, outcome: str, error_code: str | None = None, details: str = "{}") -> list[SideWrite]:
    """Record how a command was decided, and wake whoever waits for that decision."""
    return [
        ("INSERT INTO command_log (command_id, type, site_id, run_id, outcome, error_code, details)"
         " VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb)",
         (command.command_id, command.type, command.site_id, command.run_id, outcome, error_code, details)),
        ("SELECT pg_notify('command_outcome', %s)", (command.command_id,)),
    ]


def command_outcome(cur: Any, command_id: str) -> dict[str, Any] | None:
    cur.execute("SELECT outcome, error_code FROM command_log WHERE command_id = %s", (command_id,))
    row = cur.fetchone()
    return dict(row) if row else None


def admission_inputs(cur: Any, site_id: str, account_id: str) -> dict[str, Any] | None:
    """The site's config (defaults if never saved), its pending counts and the account's balance."""
    cur.execute(
        "INSERT INTO automation_config (site_id) SELECT id FROM sites WHERE id = %s"
        " ON CONFLICT (site_id) DO NOTHING",
        (site_id,),
    )
    cur.execute(
        "SELECT s.id, a.credits, a.reserved, to_jsonb(cfg) AS config FROM sites s"
        " JOIN accounts a ON a.id = s.account_id"
        " LEFT JOIN automation_config cfg ON cfg.site_id = s.id"
        " WHERE s.id = %s AND s.account_id = %s",
        (site_id, account_id),
    )
    row = cur.fetchone()
    if row is None:
        return None
    cur.execute(
        "SELECT stage, count(*) AS n FROM pending_items WHERE site_id = %s GROUP BY stage", (site_id,)
    )
    pending = {int(r["stage"]): int(r["n"]) for r in cur.fetchall()}
    return {"credits": int(row["credits"]), "reserved": int(row["reserved"]),
            "config": row["config"], "pending": pending}
