"""Turning short keyword phrases into comparable features, with no language model.

Search keywords are short, so every word counts: function words are dropped, search
modifiers ("best", "cheap", "review") are kept but weigh little because they say how people
search, not what about, and a light stemmer folds plurals and verb forms together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

STOPWORDS = frozenset(
    """a an and are as at be by can do does for from i in into is it its my of on or so
    than that the their this to was what when where which who why with without you your
    how much many should will would there vs versus per""".split()
)

# Words that describe the searcher's intent or taste rather than the topic.
MODIFIERS = frozenset(
    """best top good great cheap cheapest affordable budget buy price prices cost review
    reviews rated near me online sale deal deals under worth easy simple quick
    beginner beginners guide tips ideas recipe recipes make making use using difference
    between compare comparison brand brands new old small large big home diy way ways""".split()
)

MODIFIER_WEIGHT = 0.25
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_YEAR = re.compile(r"(19|20)\d\d")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


@lru_cache(maxsize=16384)  # a site's vocabulary; each entry is two short strings
def stem(word: str) -> str:
    """A deliberately light stemmer: plurals, -ing and -ed, nothing that merges topics."""
    w = word.split("'")[0]
    if len(w) <= 3 or w.isdigit():
        return w
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh")):
        if w.endswith(suffix):
            return w[: -len(suffix)] + replacement
    if w.endswith("ing") and len(w) > 5:
        w = w[:-3]
    elif w.endswith("ed") and len(w) > 4 and not w.endswith("eed"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    # A silent final e makes "descale" and "descaling" meet.
    return w[:-1] if len(w) > 4 and w.endswith("e") else w


@dataclass(frozen=True)
class KeywordFeatures:
    """The stems of a keyword with their base weight, plus character trigrams.

    Read-only throughout, because ``features`` hands the same instance to every caller.
    """

    stems: Mapping[str, float]
    trigrams: frozenset[str]
    surface: Mapping[str, str]  # stem -> the word as written, for naming
    compounds: Mapping[str, tuple[str, str]]  # joined stem -> the two stems it joins


# Every clustering call compares its keywords with the existing clusters' names and keywords
# (up to 300 clusters of nine texts): remembering them spares recomputing those each call.
# About 3 KB an entry, so 12 MB at most.
@lru_cache(maxsize=4096)
def features(text: str) -> KeywordFeatures:
    tokens = [w for w in words(text) if w not in STOPWORDS and not _YEAR.fullmatch(w)]
    stems: dict[str, float] = {}
    surface: dict[str, str] = {}
    for token in tokens:
        s = stem(token)
        weight = MODIFIER_WEIGHT if token in MODIFIERS or s in MODIFIERS else 1.0
        stems[s] = max(stems.get(s, 0.0), weight)
        surface.setdefault(s, token)
    # Compounds written apart or together ("pour over" / "pourover") should meet.
    compounds: dict[str, tuple[str, str]] = {}
    for left, right in zip(tokens, tokens[1:]):
        if left not in MODIFIERS and right not in MODIFIERS:
            joined = stem(left + right)
            compounds[joined] = (stem(left), stem(right))
            stems.setdefault(joined, 0.5)
    return KeywordFeatures(
        MappingProxyType(stems),
        _trigrams(tokens),
        MappingProxyType(surface),
        MappingProxyType(compounds),
    )


def template(text: str, is_common: Callable[[str], bool]) -> str | None:
    """The phrase with its rare words blanked: "what is a _", "_ coffee", "_ recipe".

    Phrases of one pattern around a rare word usually name things of one kind, which
    is all there is to go on when the rare words match nothing else.
    """
    slots = [
        w if w in STOPWORDS or w in MODIFIERS or is_common(stem(w)) else "_" for w in words(text)
    ]
    blanks = slots.count("_")
    if blanks == 0 or blanks > len(slots) - blanks:
        return None
    return " ".join(slots)


def _trigrams(tokens: list[str]) -> frozenset[str]:
    content = [t for t in tokens if t not in MODIFIERS]
    grams: set[str] = set()
    for token in content:
        padded = f" {token} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)  # the union's size, without building it
