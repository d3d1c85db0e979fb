"""What must hold after any fault, counted rather than only asserted, so a scenario can
report how much was lost or doubled (0 and 0 when all is well)."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import psycopg

from tests.support.client import Api, Tenant
from tests.support.keywords import keyword_set
from tests.support.stack import Stack

CREDITS = 50_000
FAST = {"within_stage_delay": 0, "between_stage_delay": 0}


@dataclass
class Figures:
    scenario: str
    runs: int = 0
    kills: int = 0
    restarts: int = 0
    resumed_after_pause: int = 0
    outputs_lost: int = 0
    outputs_duplicated: int = 0
    events_missing: int = 0
    credit_difference: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def line(row: dict[str, Any]) -> str:
        return "  ".join(f"{key}={value}" for key, value in row.items())


@dataclass
class Started:
    tenant: Tenant
    run_id: str


def start_runs(api: Api, count: int, topics: int = 4) -> list[Started]:
    """``count`` runs, each on its own account and site, all running at once."""
    started = []
    for _ in range(count):
        tenant = api.tenant(credits=CREDITS)
        api.import_keywords(tenant, keyword_set(topics=topics))
        api.configure(tenant, **FAST, stage_1_batch_size=5)
        answer = api.run_now(tenant)
        assert answer.status_code == 202, answer.text
        started.append(Started(tenant, answer.json()["run_id"]))
    return started


def stored_events(stack: Stack, run_id: str) -> int:
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
        return conn.execute("SELECT count(*) FROM automation_events WHERE originator_id = %s",
                            (uuid.UUID(run_id),)).fetchone()[0]


def store_status(stack: Stack, run_id: str) -> str:
    """The run's status as the pipeline last committed it (the read model may lag a fault)."""
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
        return conn.execute("SELECT status FROM pipeline_runs WHERE run_id = %s", (run_id,)).fetchone()[0]


def wait_events(stack: Stack, run_id: str, at_least: int, timeout: float = 60.0) -> int:
    """Polls the event store (not the read model, which a fault may hold back)."""
    deadline = time.monotonic() + timeout
    while (count := stored_events(stack, run_id)) < at_least:
        assert time.monotonic() < deadline, f"run {run_id} stuck at {count} events"
        time.sleep(0.1)
    return count


def finish(api: Api, runs: list[Started], figures: Figures, timeout: float = 120.0) -> None:
    """Every run ends completed, or paused with a reason and then completed after resume."""
    for run in runs:
        seen = api.wait_status(run.tenant, run.run_id, "completed", "paused", "failed", "cancelled", timeout=timeout)
        if seen["status"] == "paused":
            assert seen["pause_reason"], f"paused with no reason: {seen}"
            answer = api.call(run.tenant.token, "POST", "/api/v1/automation/resume", params={"run_id": run.run_id})
            assert answer.status_code == 202, answer.text
            figures.resumed_after_pause += 1
            seen = api.wait_status(run.tenant, run.run_id, "completed", "failed", "cancelled", timeout=timeout)
        assert seen["status"] == "completed", seen


def account(stack: Stack, runs: list[Started], figures: Figures, timeout: float = 30.0) -> None:
    """Counts what was lost or doubled; the read models get ``timeout`` to catch up."""
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
            missing = sum(_events_missing(conn, run.run_id) for run in runs)
            credit = sum(_credit_difference(conn, run) for run in runs)
            lost, doubled = zip(*(_outputs(conn, run.tenant.site_id) for run in runs))
        if (missing == 0 and credit == 0) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    figures.events_missing, figures.credit_difference = int(missing), int(credit)
    figures.outputs_lost, figures.outputs_duplicated = int(sum(lost)), int(sum(doubled))


def _events_missing(conn: psycopg.Connection, run_id: str) -> int:
    """Events in the store that the read models lack (by sequence, and one log line each)."""
    stored = conn.execute("SELECT count(*) FROM automation_events WHERE originator_id = %s",
                          (uuid.UUID(run_id),)).fetchone()[0]
    projected = conn.execute("SELECT count(DISTINCT sequence), max(sequence) FROM run_events WHERE run_id = %s",
                             (run_id,)).fetchone()
    lines = conn.execute("SELECT count(DISTINCT sequence) FROM run_log_lines WHERE run_id = %s",
                         (run_id,)).fetchone()[0]
    view = conn.execute("SELECT last_sequence FROM run_view WHERE run_id = %s", (run_id,)).fetchone()
    reflected = min(projected[0], projected[1] or 0, lines, view[0] if view else 0)
    return stored - reflected


def _credit_difference(conn: psycopg.Connection, run: Started) -> int:
    """The balance against grants minus every CreditsUsed the run recorded, to the unit."""
    balance, reserved = conn.execute("SELECT credits, reserved FROM accounts WHERE id = %s",
                                     (run.tenant.account_id,)).fetchone()
    used = conn.execute("SELECT COALESCE(sum((data->>'credits')::bigint), 0) FROM run_events"
                        " WHERE run_id = %s AND type = 'CreditsUsed'", (run.run_id,)).fetchone()[0]
    # The reservation is released when the run ends: whatever is left of it is a difference too.
    return abs(balance - (CREDITS - used)) + reserved


def _outputs(conn: psycopg.Connection, site_id: str) -> tuple[int, int]:
    """Per idea: one task, one content item, one featured image (and every cluster has ideas)."""
    rows = conn.execute(
        """
        SELECT (SELECT count(*) FROM tasks t WHERE t.idea_id = i.id),
               (SELECT count(*) FROM content c JOIN tasks t ON t.id = c.task_id WHERE t.idea_id = i.id),
               (SELECT count(*) FROM images m JOIN content c ON c.id = m.content_id
                  JOIN tasks t ON t.id = c.task_id WHERE t.idea_id = i.id AND m.kind = 'featured')
        FROM ideas i WHERE i.site_id = %s
        """, (site_id,)).fetchall()
    bare = conn.execute("SELECT count(*) FROM clusters k WHERE k.site_id = %s"
                        " AND NOT EXISTS (SELECT FROM ideas i WHERE i.cluster_id = k.id)", (site_id,)).fetchone()[0]
    lost = bare + sum(1 for row in rows for n in row if n == 0) + (0 if rows else 1)
    doubled = sum(n - 1 for row in rows for n in row if n > 1)
    return lost, doubled
