"""A small, valid PNG drawn from a seed: an honest stand-in for a generated image.

Written with zlib and struct only, so the offline provider needs no imaging library.
The picture is a diagonal gradient with lighter stripes and an accent-tinted circle.
Colour depends only on the diagonal x + y, so the image is drawn as one RGB strip (and its
accent-blended twin, for inside the circle), per channel and with ``bytes.translate``
where it can be, and every scanline is a slice of the two: no per-pixel Python work.
For the same reason each row is the row above shifted by a pixel, which the deflate
stream says directly (shifted_rows_deflate.py) instead of having zlib search for it.
"""

from __future__ import annotations

import hashlib
import math
import struct
import zlib
from functools import lru_cache
from itertools import repeat
from operator import floordiv

from .colour_ramp import ramp
from .shifted_rows_deflate import FINAL_BLOCK, STORED_HEADER, ZLIB_HEADER, row_copies, stored_lengths

WIDTH, HEIGHT = 256, 144
SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FILTER = b"\x00"  # filter type "None", before every scanline
# (p * 7 + 255) // 8: each channel an eighth of the way to white, for the lighter stripes.
_LIGHTER = bytes((p * 7 + 255) // 8 for p in range(256))


def placeholder_png(seed: str, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    digest = hashlib.sha256(seed.encode()).digest()
    start, end, accent = digest[0:3], digest[3:6], digest[6:9]
    band = 8 + digest[9] % 24  # width of the diagonal stripes
    cx, cy = digest[10] % width, digest[11] % height
    radius = height // 4 + digest[12] % (height // 3)
    strip = _striped_strip(start, end, band, width + height)
    accented = _blend(strip, accent)
    scanlines, idat = _scanlines_and_idat(strip, accented, (cx, cy, radius), width, height)
    checksum = zlib.adler32(scanlines)
    idat += (FINAL_BLOCK, checksum.to_bytes(4, "big"))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join((SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", b"".join(idat)), _chunk(b"IEND", b"")))


def _scanlines_and_idat(
    strip: bytes, accented: bytes, circle: tuple[int, int, int], width: int, height: int
) -> tuple[bytearray, list[bytes]]:
    """The scanlines, each after its filter byte, and the deflate stream in pieces up to its
    end: row y is the strip from diagonal y on, with the accented twin where the circle
    crosses it.

    A row after the first is copies of the row above, one pixel on, where both agree and
    its own pixels where they do not: its last pixel, and where the circle's edge moved.
    The next row's filter byte is stored with a row's last pixel.
    """
    cx, cy, radius = circle
    copies, lengths, tails = row_copies(width), stored_lengths(3 * width + 2), _row_tails(width)
    last, line, row = width - 1, 3 * width, 3 * width + 1
    scanlines = bytearray(_FILTER).join([b"", *(strip[at : at + line] for at in range(0, 3 * height, 3))])
    top, bottom = max(cy - radius, 0), min(cy + radius + 1, height)  # the rows it crosses
    # Its columns in each of those rows, and one more row where it has none (x0 == x1 == 0).
    reaches = _reaches(radius)[top - cy + radius : bottom - cy + radius]
    spans = [(cx - reach if cx > reach else 0, cx + reach + 1 if cx + reach < width else width) for reach in reaches]
    spans.append((0, 0))
    # Pieces that end with the next row's filter byte: the last row's is a byte short.
    # The first row is stored whole, once the circle is drawn in it (below).
    idat = [ZLIB_HEADER, STORED_HEADER, lengths[line + 2], b""]
    plain = tails[0]  # a row with the circle neither in it nor above it: all but one copied
    idat += (piece for end in range(2 * row, top * row + 1, row) for piece in (plain, scanlines[end - 3 : end + 1]))
    q0 = q1 = -1  # the columns where the row above, one pixel on, is accented: none
    for y, (x0, x1) in zip(range(top, min(bottom + 1, height)), spans):
        start = y * row + 1
        scanlines[start + 3 * x0 : start + 3 * x1] = accented[3 * (y + x0) : 3 * (y + x1)]
        if y:
            if x0 == x1:  # the row after the circle: an empty span where the row above's ends
                x0 = x1 = q1
            elif q1 < 0:  # the circle's first row
                q0 = q1 = x1 if x1 < last else last
            x1_ = x1 if x1 < last else last  # the last column is stored whatever it is
            # Where only this row is accented, or only the one above: left of the span both
            # are accented in, and right of it.
            a, b = (x0, q0) if x0 < q0 else (q0, x0)
            c, d = (x1_, q1) if x1_ < q1 else (q1, x1_)
            idat += (
                copies[a], lengths[3 * (b - a)], scanlines[start + 3 * a : start + 3 * b],
                copies[c - b], lengths[3 * (d - c)], scanlines[start + 3 * c : start + 3 * d],
                tails[d], scanlines[start + line - 3 : start + line + 1],
            )
        q0, q1 = (x0 - 1 if x0 else 0), x1 - 1
    idat += (piece for end in range((bottom + 2) * row, height * row + 1, row) for piece in (plain, scanlines[end - 3 : end + 1]))
    idat[3] = scanlines[: row + 1]
    idat[-2] = idat[-2][:-4] + lengths[len(idat[-1])]
    return scanlines, idat


@lru_cache(maxsize=8)
def _row_tails(width: int) -> tuple[bytes, ...]:
    """For each first column d of a row's last copy: the copy up to the last column, and the
    stored block's length for the last pixel and the next row's filter byte."""
    copies, four = row_copies(width), stored_lengths(4)[4]
    return tuple(copies[width - 1 - d] + four for d in range(width))


def _striped_strip(start: bytes, end: bytes, band: int, span: int) -> bytes:
    """RGB of each diagonal 0 .. span - 2: a start-to-end gradient, every other band lighter."""
    strip = bytearray(3 * (span - 1))
    for channel, (a, b) in enumerate(zip(start, end)):
        strip[channel::3] = ramp(a, b, span)
    lighter = strip.translate(_LIGHTER)
    for offset in range(3 * band, len(strip), 6 * band):
        strip[offset : offset + 3 * band] = lighter[offset : offset + 3 * band]
    return bytes(strip)


def _blend(strip: bytes, accent: bytes) -> bytes:
    """The strip mixed half and half with the accent colour."""
    blended = bytearray(len(strip))
    for channel, colour in enumerate(accent):
        blended[channel::3] = strip[channel::3].translate(_halfway_to(colour))
    return bytes(blended)


@lru_cache(maxsize=64)  # one per circle size: there are height // 3 of them
def _reaches(radius: int) -> tuple[int, ...]:
    """Half the circle's width in each row from its top (radius rows above the centre) to
    its bottom."""
    below = tuple(math.isqrt(radius * radius - dy * dy) for dy in range(radius + 1))
    return below[:0:-1] + below


@lru_cache(maxsize=256)  # one per accent channel value: 64 KiB at most
def _halfway_to(colour: int) -> bytes:
    """``(p + colour) // 2`` for each byte p, the division done in C."""
    return bytes(map(floordiv, range(colour, colour + 256), repeat(2)))


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
