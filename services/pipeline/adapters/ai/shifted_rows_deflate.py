"""Deflate for a picture whose every row is the row above shifted one pixel left, with
patches: the placeholder's, whose colour depends only on the diagonal x + y.

zlib finds those long repeats only by hashing every position, which was most of a
placeholder's cost. Here the repeats are known: each row is written as copies of the row
above (one pixel on, ``3 * width - 2`` bytes back) and the pixels that are new, stored as
they are. A copy is a block with the fixed Huffman codes and a pixel run is a stored block;
a stored block starts on a byte boundary, so every piece is whole bytes, built once per
width (copies) or sliced from the picture's own bytes (pixel runs): no bit packing per image.
The file is larger than zlib's fastest level made it (5.6 KB against 4.2 KB on average)
but repetitive, so PostgreSQL's own compression of a bytea column keeps ~2 KB of it.
"""

from __future__ import annotations

from functools import lru_cache

# A zlib stream's header: deflate with a 32 KiB window, no preset dictionary, "fastest".
ZLIB_HEADER = b"\x78\x01"
# The three header bits of a stored block that is not the last, padded to the byte.
STORED_HEADER = b"\x00"
# An empty stored block marked last: the stream's end, after which the checksum follows.
FINAL_BLOCK = b"\x01\x00\x00\xff\xff"
_WINDOW = 32768
_MAX_MATCH = 258
# RFC 1951 3.2.5: the first length or distance of each code, and its extra bits.
_LENGTH_BASES = (3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                 67, 83, 99, 115, 131, 163, 195, 227, 258)
_LENGTH_EXTRA = (0,) * 8 + (1,) * 4 + (2,) * 4 + (3,) * 4 + (4,) * 4 + (5,) * 4 + (0,)
_DISTANCE_BASES = (1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513,
                   769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577)
_DISTANCE_EXTRA = tuple(max(0, code // 2 - 1) for code in range(30))
_END_OF_BLOCK = 256


@lru_cache(maxsize=8)
def stored_lengths(longest: int) -> tuple[bytes, ...]:
    """LEN and NLEN of a stored block, for each length up to ``longest``."""
    return tuple(n.to_bytes(2, "little") + (n ^ 0xFFFF).to_bytes(2, "little") for n in range(longest + 1))


@lru_cache(maxsize=8)
def row_copies(width: int) -> tuple[bytes, ...]:
    """For n = 0 .. width - 1: n pixels copied from the row above, one pixel on, followed by
    the header of the stored block that comes next. For n = 0 only that header."""
    distance = 3 * width - 2  # a scanline is 3 * width bytes plus its filter byte
    if distance > _WINDOW:
        raise ValueError(f"rows of {width} pixels are too far apart for deflate's window")
    return (STORED_HEADER, *(_copy_block(3 * n, distance) for n in range(1, width)))


def _copy_block(length: int, distance: int) -> bytes:
    bits = _Bits()
    bits.put(0b010, 3)  # BFINAL 0, BTYPE 01: fixed Huffman codes
    while length:
        match = min(length, _MAX_MATCH)
        if 0 < length - match < 3:  # a match is 3 bytes at least: leave that much over
            match = length - 3
        _put_match(bits, match, distance)
        length -= match
    bits.put_code(*_fixed_code(_END_OF_BLOCK))
    bits.put(0, 3)  # the next (stored) block's header
    return bits.to_bytes()


def _put_match(bits: _Bits, length: int, distance: int) -> None:
    code = max(n for n, base in enumerate(_LENGTH_BASES) if base <= length)
    bits.put_code(*_fixed_code(257 + code))
    bits.put(length - _LENGTH_BASES[code], _LENGTH_EXTRA[code])
    code = max(n for n, base in enumerate(_DISTANCE_BASES) if base <= distance)
    bits.put_code(code, 5)  # fixed distance codes are the code's number in five bits
    bits.put(distance - _DISTANCE_BASES[code], _DISTANCE_EXTRA[code])


def _fixed_code(symbol: int) -> tuple[int, int]:
    """RFC 1951 3.2.6: the fixed Huffman code of a literal/length symbol, and its bit count."""
    if symbol < 144:
        return 0x30 + symbol, 8
    if symbol < 256:
        return 0x190 + symbol - 144, 9
    if symbol < 280:
        return symbol - 256, 7
    return 0xC0 + symbol - 280, 8


class _Bits:
    """Bits in deflate's order: from each byte's least significant bit up."""

    def __init__(self) -> None:
        self.value = 0
        self.count = 0

    def put(self, value: int, count: int) -> None:
        self.value |= value << self.count
        self.count += count

    def put_code(self, code: int, count: int) -> None:
        """Huffman codes go most significant bit first."""
        self.put(int(format(code, f"0{count}b")[::-1], 2), count)

    def to_bytes(self) -> bytes:
        return self.value.to_bytes((self.count + 7) // 8, "little")
