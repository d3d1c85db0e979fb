"""Folding a save's row writes: one statement per shape within each stretch between other
writes, a lone row left as it was, a row's second update in a statement of its own."""

from __future__ import annotations

import pytest

from services.pipeline.adapters.planner_writes import PgPlannerWrites
from services.pipeline.adapters.row_writes import folded

pytestmark = pytest.mark.unit
rows = PgPlannerWrites()
DEBIT = rows.debit("acct", "run", 4, 7, "key")
TYPES = {
    "images": {"id": "text", "position": "integer", "png": "bytea", "url": "text"},
    "content": {"id": "text", "prompts_done": "boolean", "status": "text"},
    "keywords": {"id": "text", "cluster_id": "text"},
    "tasks": {"id": "text", "status": "text"},
}


def fold(writes: list) -> list:
    return folded(writes, TYPES.__getitem__)


def test_rows_of_a_shape_fold_where_the_shape_first_appears() -> None:
    writes = []
    for n in range(3):  # an item's rows, item after item
        writes.append(rows.insert("images", {"id": f"i{n}", "position": n, "png": None}))
        writes.append(rows.update("content", f"c{n}", {"prompts_done": True}))
    inserts, updates = fold(writes)
    assert inserts == ("INSERT INTO images (id, position, png) SELECT * FROM"
                       " unnest(%b::text[], %b::integer[], %b::bytea[]) AS v(id, position, png)",
                       [["i0", "i1", "i2"], [0, 1, 2], [None, None, None]])
    assert updates == ("UPDATE content AS t SET prompts_done = v.prompts_done"
                       " FROM unnest(%b::text[], %b::boolean[]) AS v(id, prompts_done)"
                       " WHERE t.id = ANY(%b::text[]) AND t.id = v.id",
                       (["c0", "c1", "c2"], [True] * 3, ["c0", "c1", "c2"]))


def test_other_writes_keep_their_place_and_bound_the_folding() -> None:
    first = [rows.update("tasks", f"t{n}", {"status": "completed"}) for n in range(2)]
    second = [rows.update("tasks", f"t{n}", {"status": "completed"}) for n in range(2, 4)]
    out = fold([*first, DEBIT, *second, DEBIT])
    assert [w[1][0] if w is not DEBIT else "debit" for w in out] == [["t0", "t1"], "debit", ["t2", "t3"], "debit"]


def test_a_lone_row_keeps_its_single_row_statement() -> None:
    alone = rows.update("keywords", "k", {"cluster_id": "c", "status": "mapped"}, when={"cluster_id": None})
    assert fold([alone, DEBIT]) == [alone, DEBIT]
    assert fold([alone])[0] == ("UPDATE keywords SET cluster_id = %s, status = %s WHERE id = %s AND cluster_id IS NULL",
                                ("c", "mapped", "k"))


def test_guards_split_shapes_and_stay_in_the_statement() -> None:
    writes = [rows.update("content", f"c{n}", {"status": "review"}, when={"status": "draft"}) for n in range(2)]
    writes += [rows.update("keywords", f"k{n}", {"cluster_id": "c"}, when={"cluster_id": None}) for n in range(2)]
    writes += [rows.update("keywords", f"k{n}", {"cluster_id": "c"}) for n in range(2, 4)]
    review, guarded, unguarded = fold(writes)
    assert review[0].endswith("AND t.id = v.id AND t.status = %s") and review[1][-1] == "draft"
    assert guarded[0].endswith("AND t.id = v.id AND t.cluster_id IS NULL") and len(guarded[1]) == 3
    assert unguarded[0].endswith("AND t.id = v.id") and unguarded[1][0] == ["k2", "k3"]


def test_a_row_updated_again_starts_the_next_statement_of_its_shape() -> None:
    writes = [rows.update("images", image_id, {"url": url}) for image_id, url in
              [("a", "/1"), ("b", "/2"), ("a", "/3"), ("c", "/4")]]
    assert [w[1][:2] for w in fold(writes)] == [(["a", "b"], ["/1", "/2"]), (["a", "c"], ["/3", "/4"])]
