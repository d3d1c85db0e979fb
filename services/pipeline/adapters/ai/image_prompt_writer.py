"""Image prompts drawn from an article: one featured image, and one per pair of sections."""

from __future__ import annotations

import re

from ...application.ai_port import ArticleInput, ImagePrompt

MAX_IN_ARTICLE = 3
STYLE = "realistic editorial photograph, natural light, clean composition, no text or logos"
_NOT_PICTURABLE = {"conclusion", "quick checklist", "frequently asked questions", "faq"}
_TITLE = re.compile(r"^# (.+)$", re.MULTILINE)
_HEADING = re.compile(r"^## (.+)$", re.MULTILINE)


def in_article_count(section_count: int) -> int:
    """Roughly one picture per two sections, so long articles get more, short ones none."""
    return max(0, min(MAX_IN_ARTICLE, section_count // 2))


def write_image_prompts(article: ArticleInput) -> list[ImagePrompt]:
    match = _TITLE.search(article.body)
    title = (match.group(1) if match else article.title).strip()
    headings = [h.strip() for h in _HEADING.findall(article.body)]
    picturable = [h for h in headings if h.lower() not in _NOT_PICTURABLE]
    subject = title.split(":")[0].strip().lower()
    prompts = [ImagePrompt("featured", f'Hero image for "{title}": {subject}, {STYLE}.')]
    count = min(in_article_count(len(headings)), len(picturable))
    for n in range(count):
        heading = picturable[n * len(picturable) // count]  # spread across the article
        scene = f"a scene showing {heading.lower()} in a real, lived-in setting"
        prompts.append(ImagePrompt("in_article", f'Image for the section "{heading}" of "{title}": '
                                   f"{scene}, {STYLE}."))
    return prompts
