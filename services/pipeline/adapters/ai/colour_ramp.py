"""One colour channel going from a start to an end value in even steps, built from tables.

The placeholder's pixels are fixed by the float formula they were first drawn with,
``round(start + rise * (d / span))``, but evaluating it for every diagonal is most of the
drawing's Python work. The step a diagonal adds, ``rise * d / span`` to the nearest integer,
depends on the rise alone; it is tabulated once per rise and shifted to the start value with
``bytes.translate``. That agrees with the formula wherever the exact step is not a half:
a step's fraction is a multiple of 1 / span, far coarser than float error. Where it is a
half, the formula's rounding follows float error, so those few diagonals use the formula.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import repeat
from math import gcd
from operator import floordiv


def ramp(start: int, end: int, span: int) -> bytes:
    """The channel at diagonals 0 .. span - 2, the gradient spanning ``span`` diagonals."""
    rise = end - start
    steps, halves = _steps(abs(rise), span)
    channel = steps.translate(_added_to(start) if rise >= 0 else _taken_from(start))
    if not halves:
        return channel
    patched = bytearray(channel)
    first, slope = float(start), float(rise)
    for d in halves:
        patched[d] = round(first + slope * (d / span))
    return bytes(patched)


@lru_cache(maxsize=512)  # one per rise (0 .. 255) and image size: 100 KiB a size
def _steps(rise: int, span: int) -> tuple[bytes, tuple[int, ...]]:
    """``rise * d / span`` rounded half up for each diagonal, and the diagonals where it is a half."""
    twice = 2 * span
    if rise:  # (2 * rise * d + span) // twice for each d, the division done in C
        steps = bytes(map(floordiv, range(span, span + 2 * rise * (span - 1), 2 * rise), repeat(twice)))
    else:
        steps = bytes(span - 1)
    return steps, _halves(rise, span)


def _halves(rise: int, span: int) -> tuple[int, ...]:
    """The d in 0 .. span - 2 with ``2 * rise * d % (2 * span) == span``: those where
    ``rise * d`` is ``span / 2`` modulo ``span``, a linear congruence solved outright."""
    half, odd = divmod(span, 2)
    common = gcd(rise, span)
    if odd or half % common:
        return ()
    period = span // common
    first = half // common * pow(rise // common, -1, period) % period
    return tuple(range(first, span - 1, period))


_BYTES = bytes(range(256))


@lru_cache(maxsize=256)
def _added_to(start: int) -> bytes:
    """``(start + p) & 0xFF`` for each byte p: the byte values rotated."""
    return _BYTES[start:] + _BYTES[:start]


@lru_cache(maxsize=256)
def _taken_from(start: int) -> bytes:
    """``(start - p) & 0xFF`` for each byte p: the byte values backwards, rotated."""
    return _BYTES[start::-1] + _BYTES[:start:-1]
