"""The planner port's writes on PostgreSQL: statements for the store to run with the events.

Rows inserted or updated are ``RowWrite`` values, which the store folds with the rows of
the same shape saved with them (row_writes.py)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

from services.pipeline.adapters.row_writes import RowWrite, insert_shape, update_shape
from services.pipeline.application.ports import SideWrite
from shared.events.commands import Command, Outcome
from shared.infra.channels import COMMAND_OUTCOME

# Table and column names come from code, never from a request; this is a tripwire, not a filter.
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def _name(identifier: str) -> str:
    if not _IDENTIFIER.fullmatch(identifier):
        raise ValueError(f"not a plain SQL identifier: {identifier!r}")
    return identifier


@functools.cache
def _insert_statement(table: str, columns: tuple[str, ...]) -> str:
    # Made once per table and columns: a step writes a row or two per item.
    return (f"INSERT INTO {_name(table)} ({', '.join(_name(column) for column in columns)})"
            f" VALUES ({', '.join('%s' for _ in columns)})")


@functools.cache
def _update_statement(table: str, columns: tuple[str, ...], guards: tuple[tuple[str, bool], ...]) -> str:
    """``guards``: each guard's column, and whether it asks for NULL (else for a parameter)."""
    assignments = ", ".join(f"{_name(column)} = %s" for column in columns)
    where = "".join(f" AND {_name(column)} IS NULL" if null else f" AND {_name(column)} = %s"
                    for column, null in guards)
    return f"UPDATE {_name(table)} SET {assignments} WHERE id = %s{where}"


class PgPlannerWrites:
    def insert(self, table: str, row: Mapping[str, Any]) -> SideWrite:
        columns = tuple(row)
        return RowWrite(_insert_statement(table, columns), tuple(row.values()), insert_shape(table, columns), dict(row))

    def update(self, table: str, row_id: str, changes: Mapping[str, Any],
               when: Mapping[str, Any] | None = None) -> SideWrite:
        columns, guards = tuple(changes), tuple((when or {}).items())
        statement = _update_statement(table, columns, tuple((column, value is None) for column, value in guards))
        params = (*changes.values(), row_id, *(value for _, value in guards if value is not None))
        return RowWrite(statement, params, update_shape(table, columns, guards), {"id": row_id, **changes})

    def record_failure(self, run_id: str, stage: int, item_id: str) -> SideWrite:
        return ("INSERT INTO run_item_failures (run_id, stage, item_id) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING", (run_id, stage, item_id))

    def debit(self, account_id: str, run_id: str, stage: int, credits: int, entry_key: str) -> SideWrite:
        return "SELECT debit_credits(%s, %s, %s, %s, %s)", (account_id, run_id, stage, credits, entry_key)

    def reserve(self, account_id: str, run_id: str, credits: int) -> SideWrite:
        return "SELECT reserve_credits(%s, %s, %s)", (account_id, run_id, credits)

    def release(self, run_id: str) -> SideWrite:
        return "SELECT release_reservation(%s)", (run_id,)

    def note_run_started(self, site_id: str, started_at: str) -> SideWrite:
        """The site's ``last_run_at``: when its latest admitted run started, manual or scheduled."""
        return ("UPDATE automation_config SET last_run_at = %s"
                " WHERE site_id = %s AND (last_run_at IS NULL OR last_run_at < %s)",
                (started_at, site_id, started_at))

    def set_run_status(self, run_id: str, site_id: str, account_id: str, status: str) -> SideWrite:
        # The first status of a run is written by its admission: ``admitted_at`` is that
        # transaction's time, the watermark of the keywords the run takes (planner_sql.py).
        return ("INSERT INTO pipeline_runs (run_id, site_id, account_id, status, admitted_at)"
                " VALUES (%s, %s, %s, %s, now())"
                " ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()",
                (run_id, site_id, account_id, status))

    def log_command(self, command: Command, outcome: Outcome, error_code: str | None = None,
                    details: Mapping[str, Any] | None = None) -> list[SideWrite]:
        return [
            ("INSERT INTO command_log (command_id, type, site_id, run_id, outcome, error_code, details)"
             " VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb)",
             (command.command_id, command.type, command.site_id, command.run_id, str(outcome), error_code,
              json.dumps(dict(details or {})))),
            ("SELECT pg_notify(%s, %s)", (COMMAND_OUTCOME, command.command_id)),
        ]
