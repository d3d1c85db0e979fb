"""Folding a save's row writes: one statement per shape within each stretch between other
writes, a lone row left as it was, a row's second update in a statement of its own."""

from __future__ import annotations

import json

import pytest

from services.pipeline.adapters.planner_writes import PgPlannerWrites
from services.pipeline.adapters.row_writes import folded

pytestmark = pytest.mark.unit
rows = PgPlannerWrites()
DEBIT = rows.debit("acct", "run", 4, 7, "key")


def _records(write) -> list[dict]:
    return json.loads(write[1][0])


def test_rows_of_a_shape_fold_where_the_shape_first_appears() -> None:
    writes = []
    for n in range(3):  # an item's rows, item after item
        writes.append(rows.insert("images", {"id": f"i{n}", "position": n, "png": None}))
        writes.append(rows.update("content", f"c{n}", {"prompts_done": True}))
    out = folded(writes)
    assert out[0][0] == ("INSERT INTO images (id, position, png) SELECT id, position, png"
                         " FROM json_populate_recordset(NULL::images, %s::json)")
    assert "json_populate_recordset(NULL::content, %s::json)" in out[1][0]
    assert " UPDATE content AS t SET prompts_done = v.prompts_done FROM v WHERE " in out[1][0]
    assert _records(out[0]) == [{"id": f"i{n}", "position": n, "png": None} for n in range(3)]
    assert _records(out[1]) == [{"id": f"c{n}", "prompts_done": True} for n in range(3)]


def test_other_writes_keep_their_place_and_bound_the_folding() -> None:
    first = [rows.update("tasks", f"t{n}", {"status": "completed"}) for n in range(2)]
    second = [rows.update("tasks", f"t{n}", {"status": "completed"}) for n in range(2, 4)]
    out = folded([*first, DEBIT, *second, DEBIT])
    assert [len(_records(w)) if w is not DEBIT else "debit" for w in out] == [2, "debit", 2, "debit"]


def test_a_lone_row_keeps_its_single_row_statement() -> None:
    alone = rows.update("keywords", "k", {"cluster_id": "c", "status": "mapped"}, when={"cluster_id": None})
    assert folded([alone, DEBIT]) == [alone, DEBIT]
    assert folded([alone])[0] == ("UPDATE keywords SET cluster_id = %s, status = %s WHERE id = %s AND cluster_id IS NULL",
                                  ("c", "mapped", "k"))


def test_guards_split_shapes_and_stay_in_the_statement() -> None:
    writes = [rows.update("content", f"c{n}", {"status": "review"}, when={"status": "draft"}) for n in range(2)]
    writes += [rows.update("keywords", f"k{n}", {"cluster_id": "c"}, when={"cluster_id": None}) for n in range(2)]
    writes += [rows.update("keywords", f"k{n}", {"cluster_id": "c"}) for n in range(2, 4)]
    (review, guarded, unguarded) = folded(writes)
    assert review[0].endswith("AND t.id = v.id AND t.status = %s") and review[1][1:] == ("draft",)
    assert guarded[0].endswith("AND t.id = v.id AND t.cluster_id IS NULL") and len(guarded[1]) == 1
    assert unguarded[0].endswith("AND t.id = v.id") and [r["id"] for r in _records(unguarded)] == ["k2", "k3"]


def test_a_row_updated_again_starts_the_next_statement_of_its_shape() -> None:
    writes = [rows.update("images", image_id, {"url": url}) for image_id, url in
              [("a", "/1"), ("b", "/2"), ("a", "/3"), ("c", "/4")]]
    out = folded(writes)
    assert [[(r["id"], r["url"]) for r in _records(w)] for w in out] == [[("a", "/1"), ("b", "/2")],
                                                                        [("a", "/3"), ("c", "/4")]]


def test_bytes_go_as_bytea_hex() -> None:
    out = folded([rows.update("images", f"i{n}", {"png": bytes([n, 255])}) for n in range(2)])
    assert [r["png"] for r in _records(out[0])] == ["\\x00ff", "\\x01ff"]
