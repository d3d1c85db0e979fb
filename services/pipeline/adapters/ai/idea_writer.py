"""Article ideas for a keyword cluster: one to three, each with its own angle and keywords."""

from __future__ import annotations

from collections.abc import Callable

from ...application.ai_port import ClusterInput, Idea
from .prose import headline, pick, sentence_case, stable_index, with_article

Angle = Callable[[str, str], str | None]  # (topic, focus keyword) -> title, or None if unfit


def _how_to(topic: str, focus: str) -> str | None:
    if focus.lower().startswith("how to "):
        return f"{headline(focus)}: A Step-by-Step Guide"
    return f"Getting {headline(topic)} Right: A Practical Walkthrough"


def _comparison(topic: str, focus: str) -> str | None:
    for separator in (" vs ", " versus "):
        if separator in focus.lower():
            left, right = focus.lower().split(separator, 1)
            return f"{headline(left)} vs {headline(right)}: Which Should You Choose?"
    return f"{headline(topic)}: Your Options Compared"


def _buyers_guide(topic: str, focus: str) -> str | None:
    if focus.lower().startswith("best "):
        return f"{headline(focus)}: An Honest Buyer's Guide"
    return None


def _question(topic: str, focus: str) -> str | None:
    first = focus.lower().split(" ", 1)[0]
    if first in {"what", "why", "does", "do", "is", "can", "should", "which", "when"}:
        return f"{headline(focus)}? A Clear Answer"
    return None


def _guide(topic: str, focus: str) -> str | None:
    return f"The Complete Guide to {headline(topic)}"


def _checklist(topic: str, focus: str) -> str | None:
    return f"The {headline(topic)} Checklist: 10 Things to Get Right"


def _mistakes(topic: str, focus: str) -> str | None:
    return f"7 Common {headline(topic)} Mistakes (and How to Avoid Them)"


# Angles that only fit certain keywords come first, so a cluster's own wording leads.
SPECIFIC: tuple[Angle, ...] = (_question, _buyers_guide)
GENERAL: tuple[Angle, ...] = (_how_to, _comparison, _guide, _checklist, _mistakes)
KINDS = {
    _how_to: "how-to guide",
    _comparison: "comparison",
    _buyers_guide: "buyer's guide",
    _question: "explainer",
    _guide: "complete guide",
    _checklist: "checklist",
    _mistakes: "troubleshooting piece",
}


def idea_count(keyword_count: int) -> int:
    return 1 if keyword_count <= 3 else 2 if keyword_count <= 7 else 3


def write_ideas(cluster: ClusterInput) -> list[Idea]:
    keywords = list(cluster.keywords) or [cluster.name]
    count = idea_count(len(cluster.keywords))
    shift = stable_index(cluster.name, len(GENERAL))
    angles = [*SPECIFIC, *GENERAL[shift:], *GENERAL[:shift]]
    ideas: list[Idea] = []
    used: set[Angle] = set()
    for n in range(count):
        share = keywords[n::count]  # each idea leads with its own slice of the keywords
        for angle in angles:
            title = None if angle in used else _first_fit(angle, cluster.name, share)
            if title and all(title != idea.title for idea in ideas):
                used.add(angle)
                ideas.append(Idea(title=title, description=_describe(angle, cluster, share)))
                break
    return ideas


def _first_fit(angle: Angle, topic: str, keywords: list[str]) -> str | None:
    for keyword in keywords:
        title = angle(topic, keyword)
        if title:
            return title
    return None


def _describe(angle: Angle, cluster: ClusterInput, keywords: list[str]) -> str:
    covered = ", ".join(f'"{k}"' for k in keywords[:4])
    reader = pick(cluster.name, ("enthusiasts", "beginners", "readers ready to upgrade"))
    kind = sentence_case(with_article(KINDS[angle]))
    return f"{kind} on {cluster.name.lower()} for {reader}, covering {covered}."
