"""The run event store: the `eventsourcing` application on PostgreSQL.

Saving aggregates may carry ``side_writes``: SQL statements executed in the same
transaction as the new events. A batch's output rows and its credit debit thus
commit or roll back together with the events that record them, and the
aggregate's optimistic concurrency makes a repeated batch fail as a whole. The run heads
of the audit (run_heads.py) are written in that transaction too.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Mapping, Sequence
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry

from services.pipeline.adapters.recorded_metrics import count_recorded
from services.pipeline.adapters.trace_links import TRACE_LINKS
from services.pipeline.adapters.row_writes import COLUMN_TYPES, folded
from services.pipeline.adapters.run_heads import upsert_heads
from services.pipeline.application.ports import SideWrite
from services.pipeline.domain.errors import InsufficientCredits
from shared.infra.settings import Settings

CREDIT_CONSTRAINTS = frozenset({"credits_not_negative", "reservations_covered"})


def _breached_constraint(error: Exception) -> str | None:
    return getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)


class SideWriteRecorder(PostgresApplicationRecorder):
    """The library's recorder, with side-writes, run heads, and a failed save that says why.

    The library's ``insert_events`` loses a failed statement's error when leaving the aborted
    pipeline's transaction raises PipelineAborted instead, an OperationalError it retries after
    0.2 s, up to ten times, though the save can only fail again: a conflicting version (a
    pause racing a worker's step) then cost 200-600 ms. Here the statement's error is raised
    (IntegrityError at once, the breached constraint named); a lost connection is still retried.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._column_types: dict[str, dict[str, str]] = {}

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
        kwargs = {**kwargs, "side_writes": folded(kwargs.get("side_writes", ()), self.column_types)}
        failure: psycopg.Error | None = None
        with self.datastore.get_connection() as conn:
            try:
                with conn.pipeline() as pipeline, conn.transaction():
                    try:
                        with conn.cursor() as curs:
                            self._insert_events(curs, stored_events, **kwargs)
                        with conn.cursor() as curs:
                            self._insert_stored_events(curs, stored_events, **kwargs)
                            pipeline.sync()
                            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
                    except psycopg.errors.PipelineAborted:
                        # A statement queued after the one that failed: the sync raises that one's error.
                        try:
                            pipeline.sync()
                        except psycopg.Error as error:
                            failure = error
                        raise
                    except psycopg.Error as error:
                        failure = error
                        raise
            except psycopg.errors.PipelineAborted:
                if failure is None or isinstance(failure, psycopg.errors.PipelineAborted):
                    raise
                raise failure from None

    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        for statement, params in kwargs.get("side_writes", ()):
            curs.execute(statement, params)
        super()._insert_events(curs, stored_events, **kwargs)

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        # After the events (and the table lock they take): a concurrent save of the same run
        # then fails on the events' key, as the aggregate's optimistic concurrency expects.
        # Its own cursor: the library reads the inserted events' notification ids off ``curs``.
        super()._insert_stored_events(curs, stored_events, **kwargs)
        with curs.connection.cursor() as heads:
            upsert_heads(heads, stored_events)


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
