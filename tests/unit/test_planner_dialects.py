"""The SQLite planner module answers every call the PostgreSQL one does (same names, same parameters)."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

from services.pipeline.adapters import planner_sql, planner_sqlite

pytestmark = pytest.mark.unit


def public_functions(module: ModuleType) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(value)
        for name, value in vars(module).items()
        if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")
    }


def test_sqlite_offers_every_function_of_postgresql() -> None:
    missing = {name for name in public_functions(planner_sql) if not callable(getattr(planner_sqlite, name, None))}
    assert not missing


def test_the_functions_take_the_same_parameters() -> None:
    for name, signature in public_functions(planner_sql).items():
        sqlite = inspect.signature(getattr(planner_sqlite, name))
        assert list(signature.parameters) == list(sqlite.parameters), name


def test_shared_statements_use_sqlite_placeholders() -> None:
    statement, params = planner_sqlite.insert_idea("i", "s", "c", 0, "title", "description")
    assert "%s" not in statement and statement.count("?") == len(params) == 6
    assert all("%s" not in w[0] for w in planner_sqlite.queue_idea("t", "s", "i", "title"))
