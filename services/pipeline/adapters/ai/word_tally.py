"""Word counts kept while the writer composes a text, so it never reads the text back.

Two conventions are counted: prose words (``word_count``: markup does not count), which
decide an article's length, and whitespace-separated words (``str.split``), which token
estimates count. Both add up over texts joined by whitespace, so a whole's count is the
sum of its parts' counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from .prose import word_count


class Tally(NamedTuple):
    prose: int
    spaced: int

    def plus(self, other: Tally) -> Tally:
        return Tally(self.prose + other.prose, self.spaced + other.spaced)

    def least(self) -> int:
        """The stricter of the two counts: a length it meets holds under either convention."""
        return min(self.prose, self.spaced)


@lru_cache(maxsize=4096)  # a site's keywords and headings are counted again and again
def tally(text: str) -> Tally:
    return Tally(word_count(text), len(text.split()))


class SlotTemplate:
    """A sentence with ``{kw}`` slots, each after a space and before a space or a punctuation
    mark, whose own words are counted once rather than at every filling."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pieces = text.split("{kw}")  # joined by the keyword: format() without parsing
        self.slots = len(self.pieces) - 1
        own = tally(text.format(kw="x"))  # a one-word keyword, taken off again below
        self.own_prose, self.own_spaced = own.prose - self.slots, own.spaced - self.slots


def fill(templates: Sequence[SlotTemplate], keyword: str) -> tuple[list[str], Tally]:
    """The templates filled with the keyword, and the words of all of them together.

    After a keyword that does not end in whitespace, the mark following a slot joins the
    keyword's last word, so a sentence counts its own words plus the keyword's at each slot.
    Any other keyword (an empty one, say) leaves the mark a word of its own: those
    sentences are counted as written.
    """
    texts = [keyword.join(t.pieces) for t in templates]
    if not keyword or keyword[-1].isspace():
        return texts, tally(" ".join(texts))
    per_slot, slots = tally(keyword), sum(t.slots for t in templates)
    return texts, Tally(
        sum(t.own_prose for t in templates) + slots * per_slot.prose,
        sum(t.own_spaced for t in templates) + slots * per_slot.spaced,
    )
