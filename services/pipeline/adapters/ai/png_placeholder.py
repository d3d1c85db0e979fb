"""A small, valid PNG drawn from a seed: an honest stand-in for a generated image.

Written with zlib and struct only, so the offline provider needs no imaging library.
"""

from __future__ import annotations

import hashlib
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
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type "None" for every scanline
        for x in range(width):
            t = (x + y) / (width + height)
            pixel = [round(a + (b - a) * t) for a, b in zip(start, end)]
            if ((x + y) // band) % 2:
                pixel = [(p * 7 + 255) // 8 for p in pixel]  # a lighter stripe
            if (x - cx) ** 2 + (y - cy) ** 2 <= radius_sq:
                pixel = [(p + q) // 2 for p, q in zip(pixel, accent)]
            rows.extend(pixel)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join(
        (
            SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(bytes(rows), 9)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
