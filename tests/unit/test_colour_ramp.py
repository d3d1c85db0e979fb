"""The placeholder's gradient channel (colour_ramp.py), built from tables, is the float formula
its pixels were first drawn with, diagonal for diagonal, halves included."""

from __future__ import annotations

import pytest

from services.pipeline.adapters.ai.colour_ramp import _added_to, _steps, _taken_from, ramp

pytestmark = pytest.mark.unit


def by_formula(start: int, end: int, span: int) -> bytes:
    return bytes(round(float(start) + float(end - start) * (d / span)) for d in range(span - 1))


@pytest.mark.parametrize("span", [400, 301, 8])  # 400: the 256 x 144 image's diagonals
@pytest.mark.parametrize("start", [0, 1, 2, 77, 128, 200, 254, 255])
def test_every_rise_matches_the_formula(start, span):
    for end in range(256):
        assert ramp(start, end, span) == by_formula(start, end, span), (start, end)


def test_steps_that_fall_on_a_half_are_among_those_checked():
    # 1 * 200 / 400 is exactly a half: the table alone would round it up, the formula to even.
    assert by_formula(0, 1, 400)[200] == 0 and ramp(0, 1, 400)[200] == 0


@pytest.mark.parametrize("span", [1, 2, 3, 8, 9, 400, 401, 402, 745])
def test_the_step_tables_are_their_definitions(span):
    twice = 2 * span
    for rise in range(256):
        _steps.cache_clear()
        assert _steps(rise, span) == (
            bytes((2 * rise * d + span) // twice for d in range(span - 1)),
            tuple(d for d in range(span - 1) if 2 * rise * d % twice == span),
        ), rise


def test_the_shift_tables_are_their_definitions():
    for start in range(256):
        assert _added_to(start) == bytes((start + p) & 0xFF for p in range(256))
        assert _taken_from(start) == bytes((start - p) & 0xFF for p in range(256))
