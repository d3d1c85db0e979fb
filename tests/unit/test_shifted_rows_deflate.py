"""The placeholder's hand-made deflate stream (shifted_rows_deflate.py, png_placeholder.py)
inflates, checksum included, to the picture drawn pixel by pixel: wherever the circle
lies, cut by the image's edges or not, and whatever the image's size."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.pipeline.adapters.ai.png_placeholder import _reaches, _scanlines_and_idat
from services.pipeline.adapters.ai.shifted_rows_deflate import FINAL_BLOCK, row_copies

pytestmark = pytest.mark.unit


def drawn_pixel_by_pixel(strip: bytes, accented: bytes, circle: tuple[int, int, int], width: int,
                         height: int) -> bytes:
    cx, cy, radius = circle
    out = bytearray()
    for y in range(height):
        out.append(0)
        for x in range(width):
            inside = (x - cx) ** 2 + (y - cy) ** 2 <= radius * radius
            out += (accented if inside else strip)[3 * (y + x) : 3 * (y + x + 1)]
    return bytes(out)


def inflated(strip: bytes, accented: bytes, circle: tuple[int, int, int], width: int, height: int) -> bytes:
    scanlines, idat = _scanlines_and_idat(strip, accented, circle, width, height)
    stream = b"".join((*idat, FINAL_BLOCK, zlib.adler32(scanlines).to_bytes(4, "big")))
    return zlib.decompress(stream)  # checks the Adler-32 too


@st.composite
def pictures(draw):
    width, height = draw(st.integers(1, 40)), draw(st.integers(1, 30))
    diagonals = width + height - 1
    strip = draw(st.binary(min_size=3 * diagonals, max_size=3 * diagonals))
    accented = draw(st.binary(min_size=3 * diagonals, max_size=3 * diagonals))
    circle = (draw(st.integers(0, width - 1)), draw(st.integers(0, height - 1)), draw(st.integers(0, 45)))
    return strip, accented, circle, width, height


@settings(max_examples=400, deadline=None)
@given(pictures())
def test_the_stream_inflates_to_the_picture(picture):
    assert inflated(*picture) == drawn_pixel_by_pixel(*picture)


@pytest.mark.parametrize("cx", [0, 1, 40, 127, 214, 254, 255])
@pytest.mark.parametrize("cy", [0, 72, 143])
@pytest.mark.parametrize("radius", [36, 83])
def test_the_placeholders_size_with_the_circle_anywhere(cx, cy, radius):
    strip = bytes(range(256)) * 5
    accented = bytes(255 - b for b in strip)
    picture = (strip[: 3 * 399], accented[: 3 * 399], (cx, cy, radius), 256, 144)
    assert inflated(*picture) == drawn_pixel_by_pixel(*picture)


def test_the_circle_is_the_one_drawn_by_reach():
    # The naive drawing above tests x, y against the radius; the placeholder reads its
    # reaches: the two agree on which pixels are inside.
    for radius in (0, 1, 36, 83):
        reaches = _reaches(radius)
        assert len(reaches) == 2 * radius + 1
        assert all(reach ** 2 + dy * dy <= radius * radius < (reach + 1) ** 2 + dy * dy
                   for dy, reach in zip(range(-radius, radius + 1), reaches))


def test_rows_too_far_apart_for_the_window_are_refused():
    with pytest.raises(ValueError):
        row_copies(11_000)
