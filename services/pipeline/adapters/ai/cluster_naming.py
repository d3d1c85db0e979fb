"""Names and descriptions for keyword clusters, taken from the head terms they share."""

from __future__ import annotations

from collections import Counter

from ...application.ai_port import KeywordInput, NewCluster
from .keyword_similarity import SimilarityIndex
from .prose import headline
from .text_features import MODIFIERS, stem, words

SHARED_SHARE = 0.5
MAX_NAME_WORDS = 3


def name_clusters(
    clusters: list[list[int]], index: SimilarityIndex, keywords: list[KeywordInput]
) -> list[NewCluster]:
    ordered = sorted(clusters, key=lambda docs: (-_volume(docs, keywords), docs[0]))
    taken: Counter[str] = Counter()
    named: list[NewCluster] = []
    for docs in ordered:
        name = _unique(_name(docs, index, keywords), docs, index, taken)
        named.append(
            NewCluster(
                name=name,
                description=_description(name, docs, keywords),
                keyword_ids=tuple(keywords[d].id for d in docs),
            )
        )
    return named


def head_terms(docs: list[int], index: SimilarityIndex) -> list[str]:
    """Stems ranked by how much of the cluster they carry (weight summed over members)."""
    score: Counter[str] = Counter()
    for d in docs:
        for s, w in index.vector(d).items():
            if s in index.features[d].surface:  # skip joined compounds, they have no spelling
                score[s] += w
    return [s for s, _ in sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))]


def _name(docs: list[int], index: SimilarityIndex, keywords: list[KeywordInput]) -> str:
    if len(docs) == 1:
        return headline(keywords[docs[0]].keyword)
    counts = Counter(s for d in docs for s in index.features[d].surface)
    shared = [s for s in head_terms(docs, index) if counts[s] >= SHARED_SHARE * len(docs)]
    topical = [s for s in shared if _spelling(s, docs, index) not in MODIFIERS]
    chosen = _distinct(topical or shared or head_terms(docs, index), docs, index)
    if not chosen:
        return headline(keywords[docs[0]].keyword)
    chosen.sort(key=lambda s: _mean_position(s, docs, keywords))
    name = " ".join(_spelling(s, docs, index) for s in chosen)
    if all(index.is_common(s) for s in chosen):
        # "Coffee" says nothing on a coffee site: lead with the rare words instead.
        rare = [s for s in head_terms(docs, index) if not index.is_common(s)][:3]
        name = " / ".join(_spelling(s, docs, index) for s in rare) + " " + name
    return headline(name.strip())


def _distinct(stems: list[str], docs: list[int], index: SimilarityIndex) -> list[str]:
    """Up to a few terms, skipping near-repeats such as "froth" after "frother"."""
    chosen: list[str] = []
    for s in stems:
        spelled = _spelling(s, docs, index)
        if not any(
            spelled.startswith(other) or other.startswith(spelled)
            for other in (_spelling(c, docs, index) for c in chosen)
        ):
            chosen.append(s)
        if len(chosen) == MAX_NAME_WORDS:
            break
    return chosen


def _unique(name: str, docs: list[int], index: SimilarityIndex, taken: Counter[str]) -> str:
    taken[name] += 1
    if taken[name] == 1:
        return name
    in_name = {stem(w) for w in words(name)}
    extra = [s for s in head_terms(docs, index) if s not in in_name]
    if extra:
        candidate = f"{name}: {headline(_spelling(extra[0], docs, index))}"
        if not taken[candidate]:
            taken[candidate] += 1
            return candidate
    return f"{name} ({taken[name]})"


def _spelling(s: str, docs: list[int], index: SimilarityIndex) -> str:
    forms = Counter(index.features[d].surface[s] for d in docs if s in index.features[d].surface)
    return min(forms.items(), key=lambda kv: (-kv[1], kv[0]))[0] if forms else s


def _mean_position(s: str, docs: list[int], keywords: list[KeywordInput]) -> float:
    positions = [
        [stem(w) for w in words(keywords[d].keyword)].index(s)
        for d in docs
        if s in {stem(w) for w in words(keywords[d].keyword)}
    ]
    return sum(positions) / len(positions) if positions else 99.0


def _description(name: str, docs: list[int], keywords: list[KeywordInput]) -> str:
    members = sorted((keywords[d] for d in docs), key=lambda k: (-(k.volume or 0), k.keyword))
    examples = ", ".join(f'"{k.keyword}"' for k in members[:3])
    text = f"Searches about {name.lower()}, such as {examples}"
    if len(members) > 3:
        text += f" and {len(members) - 3} more"
    intents = Counter(k.intent for k in members if k.intent)
    if intents:
        intent = min(intents.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        text += f"; mostly {intent} intent"
    volume = sum(k.volume or 0 for k in members)
    if volume:
        text += f"; about {volume:,} searches a month"
    return text + "."


def _volume(docs: list[int], keywords: list[KeywordInput]) -> int:
    return sum(keywords[d].volume or 0 for d in docs)

