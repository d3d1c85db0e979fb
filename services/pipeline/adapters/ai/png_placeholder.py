"""A small, valid PNG drawn from a seed: an honest stand-in for a generated image.

Written with zlib and struct only, so the offline provider needs no imaging library.
"""

from __future__ import annotations

import hashlib
import math
import struct
import zlib

WIDTH, HEIGHT = 256, 144
SIGNATURE = b"\x89PNG\r\n\x1a\n"


def placeholder_png(seed: str, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    digest = hashlib.sha256(seed.encode()).digest()
    start, end, accent = digest[0:3], digest[3:6], digest[6:9]
    band = 8 + digest[9] % 24  # width of the diagonal stripes
    cx, cy = digest[10] % width, digest[11] % height
    radius_sq = (height // 4 + digest[12] % (height // 3)) ** 2
    # Colour depends only on the diagonal x + y, so each scanline is a slice of one strip
    # (and of its accent-blended twin inside the circle): no per-pixel Python loop.
    diagonals = range(width + height - 1)
    plain = [_diagonal_pixel(d, start, end, band, width + height) for d in diagonals]
    strip = b"".join(bytes(p) for p in plain)
    accented = b"".join(bytes((p + q) // 2 for p, q in zip(pixel, accent)) for pixel in plain)
    rows = bytearray()
    for y in range(height):
        row = bytearray(strip[3 * y: 3 * (y + width)])
        dy_sq = (y - cy) ** 2
        if dy_sq <= radius_sq:
            reach = math.isqrt(radius_sq - dy_sq)
            x0, x1 = max(0, cx - reach), min(width - 1, cx + reach)
            row[3 * x0: 3 * (x1 + 1)] = accented[3 * (y + x0): 3 * (y + x1 + 1)]
        rows.append(0)  # filter type "None" for every scanline
        rows.extend(row)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join(
        (
            SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(bytes(rows), 6)),
            _chunk(b"IEND", b""),
        )
    )


def _diagonal_pixel(d: int, start: bytes, end: bytes, band: int, span: int) -> list[int]:
    t = d / span
    pixel = [round(a + (b - a) * t) for a, b in zip(start, end)]
    if (d // band) % 2:
        pixel = [(p * 7 + 255) // 8 for p in pixel]  # a lighter stripe
    return pixel


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
