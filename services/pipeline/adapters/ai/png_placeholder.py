"""A small, valid PNG drawn from a seed: an honest stand-in for a generated image.

Written with zlib and struct only, so the offline provider needs no imaging library.
The picture is a diagonal gradient with lighter stripes and an accent-tinted circle.
Colour depends only on the diagonal x + y, so the image is drawn as one RGB strip (and its
accent-blended twin, for inside the circle), per channel and with ``bytes.translate``
where it can be, and every scanline is a slice of the two: no per-pixel Python work.
"""

from __future__ import annotations

import hashlib
import math
import struct
import zlib
from functools import lru_cache

from .colour_ramp import ramp

WIDTH, HEIGHT = 256, 144
SIGNATURE = b"\x89PNG\r\n\x1a\n"
# zlib's fastest level: files of about 4 KB rather than level 6's 2 KB, in half the time
# (compressing was most of the drawing's cost). The pixels, not the bytes, are what is fixed.
_COMPRESSION = 1
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
    # The circle's first and last-plus-one column at each distance from its centre row.
    spans = [(max(0, cx - reach), min(width, cx + reach + 1)) for reach in _reaches(radius)]
    rows = []
    for y in range(height):  # row y is the strip from diagonal y on ...
        dy = abs(y - cy)
        if dy > radius:
            rows.append(strip[3 * y : 3 * (y + width)])
        else:  # ... with the accented twin where the circle crosses it
            x0, x1 = spans[dy]
            rows.append(
                strip[3 * y : 3 * (y + x0)]
                + accented[3 * (y + x0) : 3 * (y + x1)]
                + strip[3 * (y + x1) : 3 * (y + width)]
            )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join(
        (
            SIGNATURE,
            _chunk(b"IHDR", header),
            # A zero byte (filter type "None") before every scanline.
            _chunk(b"IDAT", zlib.compress(b"\x00".join((b"", *rows)), _COMPRESSION)),
            _chunk(b"IEND", b""),
        )
    )


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
    """Half the circle's width at each distance from its centre row."""
    return tuple(math.isqrt(radius * radius - dy * dy) for dy in range(radius + 1))


@lru_cache(maxsize=256)  # one per accent channel value: 64 KiB at most
def _halfway_to(colour: int) -> bytes:
    return bytes((p + colour) // 2 for p in range(256))


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
