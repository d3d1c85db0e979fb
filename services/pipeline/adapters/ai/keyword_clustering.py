"""Deterministic keyword clustering: file into existing clusters, then average-linkage merging.

Average linkage (rather than single linkage) keeps a chain of loosely related phrases
from collapsing into one giant cluster; a size cap keeps any one topic from swallowing
a site's plan, because a cluster becomes one to three articles.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Callable

from ...application.ai_port import Clustering, ExistingCluster, KeywordInput
from .cluster_naming import name_clusters
from .keyword_similarity import SimilarityIndex
from .text_features import template

# Existing clusters are joined by the same rules as new ones merge: average linkage.
MERGE_THRESHOLD = 0.30  # average similarity at which two clusters merge
ATTACH_THRESHOLD = 0.12  # a cluster of one or two may join its closest cluster above this
SMALL = 2  # clusters this small may join others below the merge threshold
MAX_CLUSTER_SHARE = 0.10
MIN_CLUSTER_CAP = 12


def cluster_keywords(keywords: list[KeywordInput], existing: list[ExistingCluster]) -> Clustering:
    texts = [k.keyword for k in keywords]
    groups: list[tuple[str, list[int]]] = []
    for cluster in existing:
        start = len(texts)
        texts.extend((cluster.name, *cluster.keywords))
        groups.append((cluster.id, list(range(start, len(texts)))))
    index = SimilarityIndex(texts)

    closest = _closest_existing(index, range(len(keywords)), groups)
    assigned = {d: cid for d, (score, cid) in closest.items() if score >= MERGE_THRESHOLD}
    remaining = [i for i in range(len(keywords)) if i not in assigned]
    cap = max(MIN_CLUSTER_CAP, math.ceil(MAX_CLUSTER_SHARE * len(keywords)))
    clusters = _group_by_template(index, texts, _agglomerate(index, remaining, cap), cap)
    # A keyword still alone is better filed where it loosely fits than left on its own.
    for docs in clusters:
        score, cluster_id = closest.get(docs[0], (0.0, ""))
        if len(docs) == 1 and score >= ATTACH_THRESHOLD:
            assigned[docs[0]] = cluster_id
    clusters = [docs for docs in clusters if docs[0] not in assigned]
    return Clustering(
        new_clusters=tuple(name_clusters(clusters, index, keywords)),
        assigned={keywords[i].id: cluster_id for i, cluster_id in sorted(assigned.items())},
    )


def _closest_existing(
    index: SimilarityIndex, docs: range, groups: list[tuple[str, list[int]]]
) -> dict[int, tuple[float, str]]:
    """Each keyword's best existing cluster, by average similarity to its name and keywords."""
    owner = {doc: n for n, (_, group_docs) in enumerate(groups) for doc in group_docs}
    closest: dict[int, tuple[float, str]] = {}
    for doc in docs:
        per_group: dict[int, list[float]] = defaultdict(list)
        others = sorted(index.candidates(doc) & owner.keys())
        for other, sim in zip(others, index.similarities(doc, others)):
            per_group[owner[other]].append(sim)
        for group, sims in sorted(per_group.items()):
            score = sum(sims) / len(groups[group][1])
            if score > closest.get(doc, (0.0, ""))[0]:
                closest[doc] = (score, groups[group][0])
    return closest


def _agglomerate(index: SimilarityIndex, docs: list[int], cap: int) -> list[list[int]]:
    members: dict[int, list[int]] = {d: [d] for d in docs}
    links: dict[int, dict[int, float]] = defaultdict(dict)  # cluster -> neighbour -> avg sim
    for (a, b), sim in index.pair_similarities(docs, set(docs)).items():
        links[a][b] = links[b][a] = sim
    next_id = max(docs, default=0) + 1
    next_id = _merge(members, links, next_id, MERGE_THRESHOLD, lambda a, b: a + b <= cap)
    # Then let stragglers join at a lower bar: a weak link beats a one-keyword cluster.
    _merge(
        members, links, next_id, ATTACH_THRESHOLD, lambda a, b: min(a, b) <= SMALL and a + b <= cap
    )
    return [sorted(m) for m in members.values()]


def _merge(
    members: dict[int, list[int]],
    links: dict[int, dict[int, float]],
    next_id: int,
    threshold: float,
    allowed: Callable[[int, int], bool],
) -> int:
    def push(a: int, b: int, sim: float) -> None:
        if sim >= threshold and allowed(len(members[a]), len(members[b])):
            heapq.heappush(heap, (-sim, min(a, b), max(a, b)))

    heap: list[tuple[float, int, int]] = []
    for a in sorted(links):
        for b, sim in sorted(links[a].items()):
            if a < b:
                push(a, b, sim)
    while heap:
        _, a, b = heapq.heappop(heap)
        if a not in members or b not in members or not allowed(len(members[a]), len(members[b])):
            continue
        size_a, size_b = len(members[a]), len(members[b])
        merged, next_id = next_id, next_id + 1
        members[merged] = members.pop(a) + members.pop(b)
        links_a, links_b = links.pop(a, {}), links.pop(b, {})
        for c in sorted((links_a.keys() | links_b.keys()) - {a, b}):
            # Lance-Williams update: the average linkage of the union.
            sim = (size_a * links_a.get(c, 0.0) + size_b * links_b.get(c, 0.0)) / (size_a + size_b)
            links[c].pop(a, None)
            links[c].pop(b, None)
            links[merged][c] = links[c][merged] = sim
            push(c, merged, sim)
    return next_id


def _group_by_template(
    index: SimilarityIndex, texts: list[str], clusters: list[list[int]], cap: int
) -> list[list[int]]:
    """Keywords left alone get one last chance: the same pattern around a rare word."""
    by_template: dict[str, list[int]] = defaultdict(list)
    grouped: list[list[int]] = []
    for docs in clusters:
        pattern = template(texts[docs[0]], index.is_common) if len(docs) == 1 else None
        if pattern is None:
            grouped.append(docs)
        else:
            by_template[pattern].append(docs[0])
    for _, docs in sorted(by_template.items()):
        if len(docs) == 1:
            grouped.append(docs)
        else:
            grouped.extend(sorted(docs[i : i + cap]) for i in range(0, len(docs), cap))
    return grouped
