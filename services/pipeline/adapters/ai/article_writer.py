"""A complete markdown article from a brief, written from templates, never under 300 words."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import cycle
from typing import NamedTuple

from ...application.ai_port import Article, ArticleBrief
from .prose import headline, pick, sentence_case, shuffled
from .sentence_bank import CHECKLIST, CLOSINGS, INTROS, SECTION_SENTENCES, SECTION_TITLES
from .text_features import stem, words
from .word_tally import SlotTemplate, Tally, fill, tally

MIN_WORDS = 300
MARGIN = 60  # written past the minimum so no counting convention can fall short
MAX_KEYWORD_SECTIONS = 5
_SENTENCES = tuple(SlotTemplate(s) for s in SECTION_SENTENCES)


class WrittenArticle(NamedTuple):
    article: Article
    words: int  # separated by whitespace, as token estimates count them


def write_article(brief: ArticleBrief) -> WrittenArticle:
    keywords = _focus_keywords(brief)
    topic = _topic(brief.title, keywords)
    others = [k for k in keywords if k != topic]
    # One permutation for the whole article: sentences repeat only once the bank runs out.
    sentences = cycle(shuffled(brief.task_id, _SENTENCES))
    parts = [
        _counted(f"# {brief.title}"),
        _counted(_intro(brief.task_id, topic, others)),
        _section(f"What to Know About {headline(topic)}", topic, sentences, 4),
        *(_section(headline(keyword), keyword, sentences, 3 + n % 2)
          for n, keyword in enumerate(others[:MAX_KEYWORD_SECTIONS])),
        _counted(_checklist(brief.task_id, topic)),
    ]
    extra = 0
    total = _total(parts)
    while total.least() < MIN_WORDS + MARGIN:
        keyword = (others or [topic])[extra % max(len(others), 1)]
        prefix = pick(f"{brief.task_id}:{extra}", SECTION_TITLES)
        section = _section(f"{prefix} {headline(keyword)}", keyword, sentences, 4)
        parts.insert(-1, section)
        total = total.plus(section[1])
        extra += 1
    conclusion = _counted(_conclusion(brief.task_id, topic))
    parts.append(conclusion)
    body = "\n\n".join(text for text, _ in parts) + "\n"
    return WrittenArticle(Article(title=brief.title, body=body), total.plus(conclusion[1]).spaced)


def _focus_keywords(brief: ArticleBrief) -> list[str]:
    seen: dict[str, str] = {}
    for keyword in brief.keywords:
        cleaned = " ".join(keyword.split())
        seen.setdefault(cleaned.lower(), cleaned)
    return list(seen.values()) or [brief.title.split(":")[0].strip().lower() or "this topic"]


def _topic(title: str, keywords: list[str]) -> str:
    """The keyword the title is most about: most of its words in the title, fewest not."""
    in_title = {stem(w) for w in words(title)}

    def fit(keyword: str) -> float:
        stems = [stem(w) for w in words(keyword)]
        hits = sum(s in in_title for s in stems)
        return hits - 0.5 * (len(stems) - hits)

    return max(keywords, key=lambda k: (fit(k), -keywords.index(k)))


def _intro(seed: str, topic: str, others: list[str]) -> str:
    opening = sentence_case(pick(seed, INTROS).format(topic=topic))
    scope = f" Along the way we cover {_join(others[:3])}." if others else ""
    promise = " By the end you will know what matters, what does not, and what to do first."
    return f"{opening}{scope}{promise}"


def _section(
    title: str, keyword: str, sentences: Iterator[SlotTemplate], per_paragraph: int
) -> tuple[str, Tally]:
    heading = f"## {title}"
    texts, count = fill([next(sentences) for _ in range(2 * per_paragraph)], keyword)
    first, second = " ".join(texts[:per_paragraph]), " ".join(texts[per_paragraph:])
    return f"{heading}\n\n{first}\n\n{second}", count.plus(tally(heading))


def _checklist(seed: str, topic: str) -> str:
    items = shuffled(seed, CHECKLIST)[:5]
    return "## Quick Checklist\n\n" + "\n".join(f"- {item.format(kw=topic)}" for item in items)


def _conclusion(seed: str, topic: str) -> str:
    return "## Conclusion\n\n" + sentence_case(pick(seed, CLOSINGS).format(topic=topic))


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" and {items[-1]}"


def _counted(text: str) -> tuple[str, Tally]:
    return text, tally(text)


def _total(parts: list[tuple[str, Tally]]) -> Tally:
    total = Tally(0, 0)
    for _, count in parts:
        total = total.plus(count)
    return total
