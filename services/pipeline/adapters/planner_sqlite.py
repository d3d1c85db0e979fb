"""Planner and writer tables on SQLite: planner_sql.py's functions, same names and meaning.

The embedded store (``RunStore.embedded``) carries the same use cases as PostgreSQL, so
this module answers the same calls in SQLite's dialect: ``?``/``:name`` parameters, JSON
arrays decoded in Python where PostgreSQL has ARRAY(), and ledger rows whose triggers move
the balances where PostgreSQL calls functions (see shared/infra/schema_sqlite.sql).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Callable

from services.pipeline.adapters import planner_sql as _postgres
from services.pipeline.adapters.event_store import SideWrite

def _dialect(statement: str) -> str:
    """planner_sql's statement with SQLite's parameter spelling (%(name)s → :name, %s → ?)."""
    return re.sub(r"%\((\w+)\)s", r":\1", statement).replace("%s", "?")


def _top_keywords(cluster: str, limit: int) -> str:
    # json_group_array keeps the inner query's order; decoded to a list by _decoded().
    return (f"(SELECT json_group_array(keyword) FROM (SELECT kw.keyword FROM keywords kw"
            f" WHERE kw.cluster_id = {cluster} ORDER BY kw.volume DESC NULLS LAST, kw.keyword LIMIT {limit}))")


def _decoded(row: Any) -> dict[str, Any]:
    item = dict(row)
    if "keywords" in item:
        item["keywords"] = json.loads(item["keywords"])
    return item


def count_pending(cur: Any, site_id: str, run_id: str, stage: int) -> int:
    cur.execute(_dialect(_postgres._COUNT_PENDING), {"site_id": site_id, "run_id": run_id, "stage": stage})
    return int(cur.fetchone()["n"])


def load_batch(cur: Any, site_id: str, run_id: str, stage: int, limit: int) -> list[dict[str, Any]]:
    cur.execute(_dialect(_postgres._batch_statement(stage, _top_keywords)),
                {"site_id": site_id, "run_id": run_id, "stage": stage, "limit": limit})
    return [_decoded(row) for row in cur.fetchall()]


def existing_clusters(cur: Any, site_id: str, limit: int = 300) -> list[dict[str, Any]]:
    cur.execute(_dialect(_postgres._existing_clusters_statement(_top_keywords)), {"site_id": site_id, "limit": limit})
    return [_decoded(row) for row in cur.fetchall()]


def available_credits(cur: Any, account_id: str, run_id: str) -> int:
    """What this run may still spend: the account's free balance plus its own reservation."""
    cur.execute(_dialect(_postgres._AVAILABLE_CREDITS), {"account_id": account_id, "run_id": run_id})
    row = cur.fetchone()
    return int(row["available"]) if row else 0


# --- side-writes ----------------------------------------------------------------------


def _question_marks(builder: Callable[..., Any]) -> Callable[..., Any]:
    """planner_sql's side-write, with PostgreSQL's %s placeholders spelled SQLite's way:
    these statements are plain SQL both databases run alike."""

    def qmark(write: SideWrite) -> SideWrite:
        return _dialect(write[0]), write[1]

    @functools.wraps(builder)
    def build(*args: Any, **kwargs: Any) -> Any:
        made = builder(*args, **kwargs)
        return [qmark(w) for w in made] if isinstance(made, list) else qmark(made)

    return build


insert_cluster = _question_marks(_postgres.insert_cluster)
assign_keyword = _question_marks(_postgres.assign_keyword)
insert_idea = _question_marks(_postgres.insert_idea)
queue_idea = _question_marks(_postgres.queue_idea)
insert_content = _question_marks(_postgres.insert_content)
insert_image = _question_marks(_postgres.insert_image)
mark_prompts_done = _question_marks(_postgres.mark_prompts_done)
store_image = _question_marks(_postgres.store_image)
mark_for_review = _question_marks(_postgres.mark_for_review)
record_failure = _question_marks(_postgres.record_failure)
note_run_started = _question_marks(_postgres.note_run_started)


# Credit movements are ledger rows; the ledger_* triggers move the balances in the same statement.


def debit(account_id: str, run_id: str, stage: int, credits: int, entry_key: str) -> SideWrite:
    return (
        "INSERT INTO credit_ledger (entry_key, account_id, kind, amount, run_id, stage)"
        " VALUES (?, ?, 'debit', ?, ?, ?)",
        (entry_key, account_id, credits, run_id, stage),
    )


def reserve(account_id: str, run_id: str, credits: int) -> SideWrite:
    return (
        "INSERT INTO credit_ledger (entry_key, account_id, kind, amount, run_id) VALUES (?, ?, 'reserve', ?, ?)",
        (f"{run_id}:reserve", account_id, credits, run_id),
    )


def release(run_id: str) -> SideWrite:
    return (
        "INSERT INTO credit_ledger (entry_key, account_id, kind, amount, run_id)"
        " SELECT run_id || ':release', account_id, 'release', remaining, run_id"
        " FROM run_reservations WHERE run_id = ?",
        (run_id,),
    )


def set_run_status(run_id: str, site_id: str, account_id: str, status: str) -> SideWrite:
    return (
        "INSERT INTO pipeline_runs (run_id, site_id, account_id, status) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (run_id) DO UPDATE SET status = excluded.status,"
        " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        (run_id, site_id, account_id, status),
    )


def log_command(command: Any, outcome: str, error_code: str | None = None, details: str = "{}") -> list[SideWrite]:
    """Record how a command was decided (in-process callers get the decision back directly)."""
    return [
        ("INSERT INTO command_log (command_id, type, site_id, run_id, outcome, error_code, details)"
         " VALUES (?, ?, ?, ?, ?, ?, ?)",
         (command.command_id, command.type, command.site_id, command.run_id, outcome, error_code, details)),
    ]


def command_outcome(cur: Any, command_id: str) -> dict[str, Any] | None:
    cur.execute("SELECT outcome, error_code FROM command_log WHERE command_id = ?", (command_id,))
    row = cur.fetchone()
    return dict(row) if row else None


_CONFIG_INTS = ("is_enabled",)
_CONFIG_NUMBERS = ("within_stage_delay", "between_stage_delay")


def _config(row: Any) -> dict[str, Any]:
    """The config row as PostgreSQL's to_jsonb(cfg) spells it: booleans, and 3 rather than 3.0."""
    config = dict(row)
    for key in _CONFIG_INTS:
        config[key] = bool(config[key])
    for key in _CONFIG_NUMBERS:
        value = float(config[key])
        config[key] = int(value) if value.is_integer() else value
    return config


def admission_inputs(cur: Any, site_id: str, account_id: str) -> dict[str, Any] | None:
    """The site's config (defaults if never saved), its pending counts and the account's balance."""
    cur.execute(
        "INSERT INTO automation_config (site_id) SELECT id FROM sites WHERE id = ?"
        " ON CONFLICT (site_id) DO NOTHING",
        (site_id,),
    )
    cur.execute(
        "SELECT a.credits, a.reserved FROM sites s JOIN accounts a ON a.id = s.account_id"
        " WHERE s.id = ? AND s.account_id = ?",
        (site_id, account_id),
    )
    row = cur.fetchone()
    if row is None:
        return None
    cur.execute("SELECT * FROM automation_config WHERE site_id = ?", (site_id,))
    config = _config(cur.fetchone())
    cur.execute("SELECT stage, count(*) AS n FROM pending_items WHERE site_id = ? GROUP BY stage", (site_id,))
    pending = {int(r["stage"]): int(r["n"]) for r in cur.fetchall()}
    return {"credits": int(row["credits"]), "reserved": int(row["reserved"]),
            "config": config, "pending": pending}
