"""Small writing helpers shared by the offline writers: headlines, stable choices, counts."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TypeVar

T = TypeVar("T")

_SMALL_WORDS = frozenset("a an and as at but by for in nor of on or the to vs with".split())
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")


@lru_cache(maxsize=4096)  # keywords and titles recur across a site's articles and ideas
def headline(text: str) -> str:
    """Title case as editors write it: small words stay small, model codes stay upper."""
    out = []
    for n, word in enumerate(text.split()):
        if any(c.isdigit() for c in word) and any(c.isalpha() for c in word):
            out.append(word.upper())
        elif n and word.lower() in _SMALL_WORDS:
            out.append(word.lower())
        else:
            out.append(word[:1].upper() + word[1:])
    return " ".join(out)


def stable_index(seed: str, size: int) -> int:
    """A choice that depends on the text only (Python's hash() is salted per process)."""
    digest = hashlib.sha256(seed.encode()).digest()
    return int.from_bytes(digest[:8], "big") % max(size, 1)


def pick(seed: str, options: Sequence[T]) -> T:
    return options[stable_index(seed, len(options))]


def word_count(markdown: str) -> int:
    """Words of prose, not markup: heading hashes and bullet dashes do not count."""
    return len(_WORD.findall(markdown))


def sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def shuffled(seed: str, options: Sequence[T]) -> list[T]:
    """A fixed permutation per seed, for choosing several items without repeats."""
    keyed = [(hashlib.sha256(f"{seed}:{n}".encode()).digest(), o) for n, o in enumerate(options)]
    return [option for _, option in sorted(keyed, key=lambda pair: pair[0])]


def with_article(noun_phrase: str) -> str:
    return ("an " if noun_phrase[:1].lower() in "aeiou" else "a ") + noun_phrase
