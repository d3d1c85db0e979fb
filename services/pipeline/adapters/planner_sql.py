"""The planner port on PostgreSQL (psycopg, sync): the tables the stages read and write.

Reads run on a cursor of the event store's pool. Writes are returned as side-writes,
executed by the store in the transaction that records the run's events.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from services.pipeline.adapters.event_store import RunStore
from services.pipeline.adapters.planner_writes import PgPlannerWrites
from services.pipeline.application.ports import AdmissionInputs, Item, SideWrite, StepReads


def _not_failed(stage: int) -> str:
    """The items that failed in this run are read once, as one array, not probed row by row:
    the table is nearly always empty for the run, and each probe was an index scan."""
    return ("p.item_id <> ALL(ARRAY(SELECT f.item_id FROM run_item_failures f"
            f" WHERE f.run_id = %(run_id)s AND f.stage = {int(stage)}))")


# A run's work is fixed at admission: stage 1 takes only keywords created by then, so keywords
# imported while it is active wait for the next run. Later stages take only what runs create,
# and a site has one active run, so they follow from stage 1. A run admitted before the
# watermark existed (NULL) takes every keyword. An import whose transaction began before the
# admission's and committed after it is taken too (created_at is its transaction's start):
# at most the imports in flight at that instant, and each batch still checks its bound.
_ADMITTED = (
    " AND p.created_at <= COALESCE("
    "(SELECT r.admitted_at FROM pipeline_runs r WHERE r.run_id = %(run_id)s), 'infinity')"
)


def _pending(stage: int) -> str:
    """The stage's pending items, as ``p``. Each stage has a view of its own (``pending_stage_N``,
    whose union is ``pending_items``): planning a read of the union planned every stage's branch
    first, and read the stage's table twice."""
    return f"pending_stage_{int(stage)} p"


def _of_the_run(stage: int) -> str:
    """The conditions of a run on its site's pending items ``p`` of ``stage``."""
    return f"p.site_id = %(site_id)s AND {_not_failed(stage)}" + (_ADMITTED if stage == 1 else "")


def _count_pending(stage: int) -> str:
    return f"SELECT count(*) AS n FROM {_pending(stage)} WHERE {_of_the_run(stage)}"


def _top_keywords(cluster: str, limit: int) -> str:
    """A cluster's most searched keywords as one array column."""
    return (f"ARRAY(SELECT kw.keyword FROM keywords kw WHERE kw.cluster_id = {cluster}"
            f" ORDER BY kw.volume DESC NULLS LAST, kw.keyword LIMIT {limit})")


# Each stage's pending items as its work function reads them: (the row, its alias). The stage's
# view (schema) decides which items are pending; this adds what the work needs.
PENDING_ITEMS: dict[int, tuple[str, str]] = {
    1: ("SELECT k.id, k.keyword AS title, k.keyword, k.volume, k.intent FROM keywords k", "k"),
    2: (f"SELECT c.id, c.name AS title, c.name, c.description, {_top_keywords('c.id', 12)} AS keywords"
        " FROM clusters c", "c"),
    3: ("SELECT i.id, i.title FROM ideas i", "i"),
    4: (f"SELECT t.id, t.title, i.description, {_top_keywords('i.cluster_id', 12)} AS keywords"
        " FROM tasks t JOIN ideas i ON i.id = t.idea_id", "t"),
    5: ("SELECT c.id, c.title, c.body FROM content c", "c"),
    6: ("SELECT im.id, im.prompt AS title, im.prompt FROM images im", "im"),
    7: ("SELECT c.id, c.title FROM content c", "c"),
}


def _batch_statement(stage: int) -> str:
    select, alias = PENDING_ITEMS[stage]
    return (f"{select} JOIN {_pending(stage)} ON p.item_id = {alias}.id"
            f" WHERE {_of_the_run(stage)} AND p.item_id <> ALL(%(skip)s)"
            f" ORDER BY p.created_at, p.item_id LIMIT %(limit)s")


CLUSTERS_SENT = 300  # the site's newest clusters, as the clustering call sends them
_EXISTING_CLUSTERS = (
    f"SELECT c.id, c.name, {_top_keywords('c.id', 8)} AS keywords FROM clusters c"
    " WHERE c.site_id = %(site_id)s ORDER BY c.created_at DESC LIMIT %(limit)s"
)
_AVAILABLE_CREDITS = (
    "SELECT a.credits - a.reserved + COALESCE(r.remaining, 0) AS available FROM accounts a"
    " LEFT JOIN run_reservations r ON r.run_id = %(run_id)s WHERE a.id = %(account_id)s"
)


_CONFIG_DEFAULTS = (
    "INSERT INTO automation_config (site_id) SELECT id FROM sites WHERE id = %s ON CONFLICT (site_id) DO NOTHING"
)
_ADMISSION = (
    "SELECT a.credits, a.reserved, to_jsonb(cfg) AS config,"
    " (SELECT COALESCE(jsonb_object_agg(q.stage, q.n), '{}') FROM (SELECT stage, count(*) AS n"
    "  FROM pending_items WHERE site_id = %(site_id)s GROUP BY stage) q) AS pending"
    " FROM sites s JOIN accounts a ON a.id = s.account_id"
    " LEFT JOIN automation_config cfg ON cfg.site_id = s.id"
    " WHERE s.id = %(site_id)s AND s.account_id = %(account_id)s"
)


def _available(row: dict[str, Any] | None) -> int:
    return int(row["available"]) if row else 0


class PgPlanner(PgPlannerWrites):
    """The planner port's reads on the run store's connections; writes from PgPlannerWrites."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self._shared = threading.local()  # the cursor of the thread's ``reading()`` block

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """The reads of this thread inside the block share one connection from the pool (the
        block's cursor, or an enclosing block's)."""
        shared = getattr(self._shared, "cursor", None)
        if shared is not None:
            yield shared
            return
        with self.store.statements() as cur:
            self._shared.cursor = cur
            try:
                yield cur
            finally:
                self._shared.cursor = None

    def count_pending(self, site_id: str, run_id: str, stage: int) -> int:
        row = self._one(_count_pending(stage), {"site_id": site_id, "run_id": run_id})
        return int(row["n"])

    def load_batch(self, site_id: str, run_id: str, stage: int, limit: int,
                   skip: Collection[str] = ()) -> list[Item]:
        return self._all(_batch_statement(stage), {"site_id": site_id, "run_id": run_id,
                                                   "limit": limit, "skip": list(skip)})

    def existing_clusters(self, site_id: str, limit: int = CLUSTERS_SENT) -> list[Item]:
        return self._all(_EXISTING_CLUSTERS, {"site_id": site_id, "limit": limit})

    def available_credits(self, account_id: str, run_id: str) -> int:
        row = self._one(_AVAILABLE_CREDITS, {"account_id": account_id, "run_id": run_id})
        return _available(row)

    def step_reads(self, site_id: str, run_id: str, account_id: str, stage: int, limit: int,
                   skip: Collection[str] = (), *, clusters: bool = False, credits: bool = False) -> StepReads:
        wanted = [(limit > 0, _batch_statement(stage), {"site_id": site_id, "run_id": run_id,
                                                        "limit": limit, "skip": list(skip)}),
                  (clusters, _EXISTING_CLUSTERS, {"site_id": site_id, "limit": CLUSTERS_SENT}),
                  (credits, _AVAILABLE_CREDITS, {"account_id": account_id, "run_id": run_id})]
        with self.reading() as shared, ExitStack() as opened:
            conn = shared.connection
            # Every statement goes out before the first answer is awaited, each on a cursor of
            # its own, which holds its rows once the pipeline is synced as the block ends.
            sent: list[Any] = []
            with conn.pipeline():
                for asked, statement, params in wanted:
                    cur = opened.enter_context(conn.cursor()) if asked else None
                    if cur is not None:
                        cur.execute(statement, params, prepare=True)  # as _one and _all
                    sent.append(cur)
            items, existing, available = ([dict(row) for row in cur.fetchall()] if cur else None for cur in sent)
        return StepReads(items or [], existing, _available(available[0]) if available else 0)

    def command_outcome(self, command_id: str) -> str | None:
        row = self._one("SELECT outcome FROM command_log WHERE command_id = %s", (command_id,))
        return row["outcome"] if row else None

    def admission_inputs(self, site_id: str, account_id: str) -> AdmissionInputs | None:
        # Both statements go out before either answer comes back (one round trip, not the five
        # of a transaction); the second sees the row the first made.
        with self.store.statements() as cur, cur.connection.pipeline():
            # The config's defaults are the table's: a site that never saved one gets its row now.
            cur.execute(_CONFIG_DEFAULTS, (site_id,), prepare=True)
            cur.execute(_ADMISSION, {"site_id": site_id, "account_id": account_id}, prepare=True)
            row = cur.fetchone()
        if row is None:
            return None
        pending = {int(stage): int(n) for stage, n in row["pending"].items()}
        return AdmissionInputs(row["config"], pending, int(row["credits"]), int(row["reserved"]))

    def execute(self, writes: Sequence[SideWrite]) -> None:
        with self.store.cursor() as cur:
            for statement, params in writes:
                cur.execute(statement, params, prepare=True)

    # Prepared at their first execution on a connection, and planned once there (PLAN_ONCE in
    # event_store.py): planning a read of pending items cost more than running it. A read names
    # its stage's view (``_pending``), so its one plan holds for any site and run.
    def _one(self, statement: str, params: Any) -> dict[str, Any] | None:
        with self.reading() as cur:
            cur.execute(statement, params, prepare=True)
            row = cur.fetchone()
        return dict(row) if row else None

    def _all(self, statement: str, params: Any) -> list[Item]:
        with self.reading() as cur:
            cur.execute(statement, params, prepare=True)
            return [dict(row) for row in cur.fetchall()]
