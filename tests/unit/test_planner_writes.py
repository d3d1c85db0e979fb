"""The planner port's generic writes: plain statements with every value a parameter."""

from __future__ import annotations

import pytest

from services.pipeline.adapters.planner_writes import PgPlannerWrites

pytestmark = pytest.mark.unit
rows = PgPlannerWrites()


def test_insert() -> None:
    assert rows.insert("tasks", {"id": "t", "title": "x"}) == (
        "INSERT INTO tasks (id, title) VALUES (%s, %s)", ("t", "x"))


def test_guarded_update() -> None:
    statement, params = rows.update("keywords", "k", {"cluster_id": "c", "status": "mapped"},
                                    when={"cluster_id": None, "site_id": "s"})
    assert statement == ("UPDATE keywords SET cluster_id = %s, status = %s"
                         " WHERE id = %s AND cluster_id IS NULL AND site_id = %s")
    assert params == ("c", "mapped", "k", "s")


@pytest.mark.parametrize("name", ["tasks; DROP TABLE x", "Tasks", "1tasks", ""])
def test_identifiers_are_plain_names(name: str) -> None:
    with pytest.raises(ValueError):
        rows.insert(name, {"id": "t"})
    with pytest.raises(ValueError):
        rows.update("tasks", "t", {name: 1})
