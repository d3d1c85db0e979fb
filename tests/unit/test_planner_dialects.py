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
    missing = set(public_functions(planner_sql)) - set(public_functions(planner_sqlite))
    assert not missing


def test_the_functions_take_the_same_parameters() -> None:
    sqlite = public_functions(planner_sqlite)
    for name, signature in public_functions(planner_sql).items():
        assert list(signature.parameters) == list(sqlite[name].parameters), name
