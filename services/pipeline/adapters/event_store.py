"""The run event store: the `eventsourcing` application on PostgreSQL.

Saving aggregates may carry ``side_writes``: SQL statements executed in the same
transaction as the new events. A batch's output rows and its credit debit thus
commit or roll back together with the events that record them, and the
aggregate's optimistic concurrency makes a repeated batch fail as a whole. The run heads
of the audit (run_heads.py) are written by the statement that inserts the events.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from typing import Any, Iterator, Mapping, Sequence
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Literal

from services.pipeline.adapters.recorded_metrics import count_recorded
from services.pipeline.adapters.trace_links import TRACE_LINKS
from services.pipeline.adapters.row_writes import COLUMN_TYPES, folded
from services.pipeline.adapters.run_heads import head_hashes
from services.pipeline.application.ports import SideWrite
from services.pipeline.domain.errors import InsufficientCredits
from shared.infra.settings import Settings

# The store's statements are prepared (side writes, the planner's reads, the library's own) and
# planned once per connection: PostgreSQL's default re-plans a prepared statement for its
# values at each of its first five executions on a connection, and planning was most of the
# cost of the planner's reads and the folded writes. Their plans don't depend on the values:
# what would (the stage a read is of) is in the statement's text, its stage's view, and the
# parameters are keys.
PLAN_ONCE = "-c plan_cache_mode=force_generic_plan"
CREDIT_CONSTRAINTS = frozenset({"credits_not_negative", "reservations_covered"})
# The events and the runs' new heads, one array per column; the lock timeout (the library's
# setting) is a constant of the text, so that the call stays one prepared statement.
APPEND_EVENTS = SQL("SELECT * FROM append_automation_events(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[],"
                    " %b::text[], {lock_timeout})")


def append_params(stored_events: Sequence[StoredEvent]) -> tuple[list[Any], ...]:
    return (
        [stored.originator_id for stored in stored_events],
        [stored.originator_version for stored in stored_events],
        [stored.topic for stored in stored_events],
        [stored.state for stored in stored_events],
        head_hashes(stored_events),
    )


def _breached_constraint(error: Exception) -> str | None:
    return getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)


class SideWriteRecorder(PostgresApplicationRecorder):
    """The library's recorder and stored-event format, a save sent in one trip.

    A save is one pipeline with one Sync: its side writes (prepared, see PLAN_ONCE), then one
    call of ``append_automation_events`` (migration 0012), which does what the library's five
    statements and our heads' upsert did (lock, NOTIFY, insert, heads) from one binary array
    per column. The statements before a Sync are one implicit transaction: they all commit
    at the Sync or, after an error, none do; no BEGIN or COMMIT is sent, and no second trip.
    A save without side writes is that one statement, its own transaction.

    A failed save raises its failed statement's own error, at once: IntegrityError for a
    conflicting version (the events' key) or a side write's breached constraint, which the
    library's version lost behind PipelineAborted and retried ten times over 2 s (a pause
    racing a worker's step then took 200-600 ms). A lost connection is still retried.
    """

    def __init__(self, datastore: PostgresDatastore, *args: Any, **kwargs: Any) -> None:
        # Before the library's set-up takes the pool's first connection.
        datastore.pool.kwargs = {**datastore.pool.kwargs, "options": PLAN_ONCE}
        super().__init__(datastore, *args, **kwargs)
        self._column_types: dict[str, dict[str, str]] = {}
        self.append_statement = APPEND_EVENTS.format(lock_timeout=Literal(int(self.datastore.lock_timeout))).as_string()

    def column_types(self, table: str) -> Mapping[str, str]:
        """The SQL type of each column of ``table``, for folded row writes: read once per
        process, as a migration that changes a column's type ships with a restart."""
        known = self._column_types.get(table)
        if known is None:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(COLUMN_TYPES, (table,))
                known = self._column_types[table] = {row["name"]: row["type"] for row in curs.fetchall()}
        return known

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        # Folded before taking a connection: the column types may need one of their own.
        side_writes = folded(kwargs.get("side_writes", ()), self.column_types)
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            assert conn.autocommit  # a BEGIN of our own would leave the Sync's commit to us
            # Leaving the pipeline sends the Sync and processes every result in order, raising
            # the first error: a statement's own, never the PipelineAborted of those after it.
            with conn.pipeline() if side_writes else nullcontext():
                for statement, params in side_writes:
                    curs.execute(statement, params, prepare=True)
                if stored_events:
                    curs.execute(self.append_statement, append_params(stored_events), prepare=True)
            # The cursor holds the last statement's rows: the events' notification ids, in order.
            return [notification_id for (notification_id,) in curs.fetchall()] if stored_events else None


class RunStore(Application):
    """Aggregates of the pipeline: AutomationRun and SiteSlot."""

    name = "automation"
    # Whether saves count into the metrics and remember traces for the relay (INSTRUMENTATION).
    observed = False

    @classmethod
    def from_settings(cls, settings: Settings) -> "RunStore":
        env = settings.eventsourcing_env() | {
            "APPLICATION_RECORDER_TOPIC": f"{__name__}:SideWriteRecorder",
            "AGGREGATE_CACHE_MAXSIZE": "2000",
            "AGGREGATE_CACHE_FASTFORWARD": "y",
        }
        store = cls(env=env)
        store.observed = settings.instrumentation
        return store

    def save_with(self, *aggregates: Any, side_writes: Sequence[SideWrite] = ()) -> None:
        """Save, mapping a breached credit constraint to InsufficientCredits."""
        try:
            recordings = self.save(*aggregates, side_writes=list(side_writes))
        except IntegrityError as error:
            if _breached_constraint(error) in CREDIT_CONSTRAINTS:
                raise InsufficientCredits(required=-1, available=-1) from error
            raise
        if self.observed:
            events = [recording.domain_event for recording in recordings]
            count_recorded(events)
            TRACE_LINKS.remember(list({str(event.originator_id) for event in events}))

    def get(self, aggregate_id: UUID) -> Any:
        return self.repository.get(aggregate_id)

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """A cursor on the store's own connection pool, for the pipeline's plain tables: one
        transaction, committed when the block ends, rolled back when it raises.

        Reads commit too: psycopg forgets every prepared statement of a connection when a
        ROLLBACK succeeds on it (DEALLOCATE ALL), so the saves' statements never stayed
        prepared while each step's reads rolled back."""
        datastore = self.recorder.datastore  # type: ignore[attr-defined]
        with datastore.transaction(commit=True) as curs:
            yield curs

    @contextmanager
    def statements(self) -> Iterator[Any]:
        """A cursor outside a transaction: each statement is its own, committed as it ends, and
        no BEGIN and COMMIT wait for a round trip each. For reads (each statement of a READ
        COMMITTED transaction reads its own snapshot anyway) and for a write that is one
        statement."""
        datastore = self.recorder.datastore  # type: ignore[attr-defined]
        with datastore.get_connection() as conn, conn.cursor() as curs:
            yield curs
