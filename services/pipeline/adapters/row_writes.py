"""Row writes of one save, folded into one set-based statement per shape.

A step records every item of its groups, and each item writes a row or two: run one by
one, that is hundreds of statements per save, each parsed, planned and executed on its own
in PostgreSQL, and each a trip through psycopg in the pipeline. Folded, the rows of one
shape (same table, same columns, same guard) go as one JSON array into one statement whose
text never changes, so the connection keeps it prepared.

Rows go through ``json_populate_recordset`` over the table's own row type: every value is
read by its column type's input function, as a single row's untyped parameter is, so NULLs,
bytea (sent as ``\\x`` hex) and numbers need no cast written here. (A json or jsonb column
would get a JSON value rather than parsed text: none of the tables written this way has one.)

Order: the rows between two other side writes (a debit, a status, a log line) are one
stretch, each shape's rows folded where the shape first appears in it. Within a stretch the
rows are distinct items' outputs, and an item's own rows come in an order the folding keeps
(a cluster's row before the keywords filed into it). A row updated twice in one stretch is
updated twice, in order: its second update starts the shape's next statement.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from services.pipeline.application.ports import SideWrite

Shape = tuple[Any, ...]


class RowWrite(tuple):  # type: ignore[type-arg]
    """A side write of one row: its plain (statement, params), and what folding it needs."""

    shape: Shape
    row: dict[str, Any]

    def __new__(cls, statement: str, params: tuple[Any, ...], shape: Shape, row: dict[str, Any]) -> "RowWrite":
        write = super().__new__(cls, (statement, params))
        write.shape = shape
        write.row = row
        return write


def insert_shape(table: str, columns: tuple[str, ...]) -> Shape:
    return ("insert", table, columns)


def update_shape(table: str, columns: tuple[str, ...], when: tuple[tuple[str, Any], ...]) -> Shape:
    return ("update", table, columns, when)


def folded(writes: Iterable[SideWrite]) -> list[SideWrite]:
    """``writes`` with each stretch's rows folded by shape (see the module's docstring)."""
    out: list[SideWrite] = []
    stretch: dict[Shape, list[list[RowWrite]]] = {}  # shape -> its statements' rows, in order
    for write in writes:
        if not isinstance(write, RowWrite):
            out.extend(_statements(stretch))
            stretch = {}
            out.append(write)
            continue
        chunks = stretch.setdefault(write.shape, [[]])
        if write.shape[0] == "update" and any(w.row["id"] == write.row["id"] for w in chunks[-1]):
            chunks.append([])
        chunks[-1].append(write)
    out.extend(_statements(stretch))
    return out


def _statements(stretch: Mapping[Shape, list[list[RowWrite]]]) -> Iterable[SideWrite]:
    for shape, chunks in stretch.items():
        for rows in chunks:
            yield rows[0] if len(rows) == 1 else _set_statement(shape, rows)


def _set_statement(shape: Shape, rows: list[RowWrite]) -> SideWrite:
    records = json.dumps([w.row for w in rows], default=_json_value, ensure_ascii=False)
    if shape[0] == "insert":
        _, table, columns = shape
        names = ", ".join(columns)
        return (f"INSERT INTO {table} ({names}) SELECT {names}"
                f" FROM json_populate_recordset(NULL::{table}, %s::json)", (records,))
    _, table, columns, when = shape
    assignments = ", ".join(f"{column} = v.{column}" for column in columns)
    guards = "".join(f" AND t.{column} IS NULL" if value is None else f" AND t.{column} = %s"
                     for column, value in when)
    # The ids again as an array: the rows are then found by their key's index, where the
    # planner, guessing 100 rows from the function, scanned small tables whole.
    return (f"WITH v AS MATERIALIZED (SELECT * FROM json_populate_recordset(NULL::{table}, %s::json))"
            f" UPDATE {table} AS t SET {assignments} FROM v"
            f" WHERE t.id = ANY(ARRAY(SELECT id FROM v)) AND t.id = v.id{guards}",
            (records, *(value for _, value in when if value is not None)))


def _json_value(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    return str(value)  # dates, uuids, decimals: their text is their column type's input
