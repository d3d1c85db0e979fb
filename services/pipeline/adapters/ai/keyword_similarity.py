"""Pairwise similarity of keyword phrases: IDF-weighted stem cosine plus trigram Jaccard.

IDF is computed over the phrases of one call, so the words a whole niche shares
("coffee" on a coffee site) count for little and the words that tell topics apart
("moka", "grinder") count for much.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import chain
from dataclasses import replace
from types import MappingProxyType

from .text_features import KeywordFeatures, features, jaccard

STEM_SHARE = 0.8  # the rest of the score comes from character trigrams
# A stem found in more than this share of phrases is too common to nominate candidates.
UBIQUITOUS_SHARE = 0.3


class SimilarityIndex:
    def __init__(self, texts: list[str]) -> None:
        self.features: list[KeywordFeatures] = _split_compounds([features(t) for t in texts])
        self._doc_freq = doc_freq = Counter(chain.from_iterable(f.stems for f in self.features))
        n = max(len(texts), 1)
        self.idf = {s: math.log(1.0 + n / c) for s, c in doc_freq.items()}
        # Made on first use: most existing clusters' phrases are never compared in a call.
        self._vectors: dict[int, dict[str, float]] = {}
        self._ubiquitous = ubiquitous = max(10, UBIQUITOUS_SHARE * n)
        self._postings: dict[str, list[int]] = defaultdict(list)
        for doc, feats in enumerate(self.features):
            for s in feats.stems:
                if doc_freq[s] <= ubiquitous:  # not is_common(s), spelt out: this runs per stem
                    self._postings[s].append(doc)

    def is_common(self, stem: str) -> bool:
        return self._doc_freq.get(stem, 0) > self._ubiquitous

    def vector(self, doc: int) -> dict[str, float]:
        """The doc's IDF-weighted stems, scaled to unit length."""
        vector = self._vectors.get(doc)
        if vector is None:
            weights = {s: w * self.idf[s] for s, w in self.features[doc].stems.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            vector = self._vectors[doc] = {s: w / norm for s, w in weights.items()}
        return vector

    def similarity(self, a: int, b: int) -> float:
        return self.similarities(a, (b,))[0]

    def similarities(self, a: int, others: Iterable[int]) -> list[float]:
        """``a``'s similarity with each of ``others``, in their order."""
        vectors, features, vector = self._vectors, self.features, self.vector
        own = vectors[a] if a in vectors else vector(a)
        trigrams = features[a].trigrams
        found = []
        for b in others:
            va, vb = own, vectors[b] if b in vectors else vector(b)
            if len(vb) < len(va):
                va, vb = vb, va
            # Stems the other lacks would add 0.0, which leaves a float sum as it was.
            cosine = sum([w * vb[s] for s, w in va.items() if s in vb])
            trigram = jaccard(trigrams, features[b].trigrams)
            found.append(STEM_SHARE * cosine + (1.0 - STEM_SHARE) * trigram)
        return found

    def candidates(self, doc: int) -> set[int]:
        """Documents sharing a telling stem with ``doc``; all others score near zero."""
        found: set[int] = set()
        for s in self.features[doc].stems:
            found.update(self._postings.get(s, ()))
        found.discard(doc)
        return found

    def pair_similarities(
        self, docs: Iterable[int], among: set[int], minimum: float = 0.0
    ) -> dict[tuple[int, int], float]:
        """Similarities of each doc with candidates in ``among`` (pairs keyed low, high)."""
        sims: dict[tuple[int, int], float] = {}
        for a in docs:
            for b in sorted(self.candidates(a) & among):
                key = (a, b) if a < b else (b, a)
                if key in sims:
                    continue
                value = self.similarity(a, b)
                if value > minimum:
                    sims[key] = value
        return sims


def _split_compounds(all_features: list[KeywordFeatures]) -> list[KeywordFeatures]:
    """Give "pourover" the stems "pour" and "over" when other phrases write it apart."""
    parts: dict[str, tuple[str, str]] = {}
    for feats in all_features:
        parts.update(feats.compounds)
    return [_with_parts(feats, parts) for feats in all_features]


def _with_parts(feats: KeywordFeatures, parts: dict[str, tuple[str, str]]) -> KeywordFeatures:
    joined = [s for s in feats.surface if s in parts]
    if not joined:
        return feats
    stems = dict(feats.stems)  # a copy: the features are shared through their cache
    for s in joined:
        for part in parts[s]:
            stems.setdefault(part, 1.0)
    return replace(feats, stems=MappingProxyType(stems))
