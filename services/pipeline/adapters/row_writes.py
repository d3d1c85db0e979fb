"""Row writes of one save, folded into one set-based statement per shape.

A step records every item of its groups, and each item writes a row or two: run one by
one, that is hundreds of statements per save, each parsed, bound and executed on its own
in PostgreSQL, and each a trip through psycopg in the pipeline. Folded, the rows of one
shape (same table, same columns, same guard) go as one array per column (binary) into one
``unnest``, each array cast to its column's type as the catalog names it: NULLs, bytea and
text for any type are read as the single row's parameters were.

Order: the rows between two other side writes (a debit, a status, a log line) are one
stretch, each shape's rows folded where the shape first appears in it. Within a stretch the
rows are distinct items' outputs, and an item's own rows come in an order the folding keeps
(a cluster's row before the keywords filed into it). A row updated twice in one stretch is
updated twice, in order: its second update starts the shape's next statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from services.pipeline.application.ports import SideWrite

Shape = tuple[Any, ...]
ColumnTypes = Callable[[str], Mapping[str, str]]  # table -> column -> SQL type

COLUMN_TYPES = (
    "SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute"
    " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped"
)


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
    return ("update", table, ("id", *columns), when)


def folded(writes: Iterable[SideWrite], column_types: ColumnTypes) -> list[SideWrite]:
    """``writes`` with each stretch's rows folded by shape (see the module's docstring)."""
    out: list[SideWrite] = []
    stretch: dict[Shape, list[_Chunk]] = {}  # shape -> its statements' rows, in order
    for write in writes:
        if not isinstance(write, RowWrite):
            out.extend(_statements(stretch, column_types))
            stretch = {}
            out.append(write)
            continue
        chunks = stretch.setdefault(write.shape, [_Chunk()])
        row_id = write.row.get("id")
        if write.shape[0] == "update" and row_id in chunks[-1].ids:
            chunks.append(_Chunk())
        chunks[-1].rows.append(write)
        chunks[-1].ids.add(row_id)
    out.extend(_statements(stretch, column_types))
    return out


class _Chunk:
    """The rows of one folded statement, and their ids."""

    def __init__(self) -> None:
        self.rows: list[RowWrite] = []
        self.ids: set[Any] = set()


def _statements(stretch: Mapping[Shape, list[_Chunk]], column_types: ColumnTypes) -> Iterable[SideWrite]:
    for shape, chunks in stretch.items():
        for rows in (chunk.rows for chunk in chunks):
            if len(rows) == 1:
                yield rows[0]
            else:
                yield _set_statement(shape, rows, column_types(shape[1]))


def _set_statement(shape: Shape, rows: list[RowWrite], types: Mapping[str, str]) -> SideWrite:
    kind, table, columns = shape[:3]
    arrays = [[w.row[column] for w in rows] for column in columns]
    unnest = (f"unnest({', '.join(f'%b::{types[column]}[]' for column in columns)})"
              f" AS v({', '.join(columns)})")
    if kind == "insert":
        return f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM {unnest}", arrays
    when = shape[3]
    assignments = ", ".join(f"{column} = v.{column}" for column in columns[1:])
    guards = "".join(f" AND t.{column} IS NULL" if value is None else f" AND t.{column} = %s"
                     for column, value in when)
    # The ids once more, as an array the key's index answers: joined with the unnest alone,
    # the planner (guessing its rows) scanned small tables whole.
    return (f"UPDATE {table} AS t SET {assignments} FROM {unnest}"
            f" WHERE t.id = ANY(%b::{types['id']}[]) AND t.id = v.id{guards}",
            (*arrays, arrays[0], *(value for _, value in when if value is not None)))
