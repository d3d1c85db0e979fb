"""What the model is told for each task. Inputs go in as JSON so ids survive the round trip."""

from __future__ import annotations

import json
from typing import Any

from ...application.ai_port import (
    ArticleBrief,
    ArticleInput,
    ClusterInput,
    ExistingCluster,
    KeywordInput,
)

Messages = list[dict[str, Any]]

CLUSTER_SYSTEM = (
    "You are an SEO strategist planning a content site. Group the given search keywords into "
    "topical clusters: keywords one article (or a short series) could target together. "
    "First file each keyword that clearly belongs to one of the existing clusters into "
    "`assignments` (keyword_id, cluster_id). Put every other keyword into exactly one new "
    "cluster with a short name (2-5 words) and a one-sentence description. Use each "
    "keyword id exactly once; never invent ids."
)
IDEAS_SYSTEM = (
    "You are a content editor. Propose one to three article ideas for the keyword cluster "
    "(one for a small cluster, three for a broad one). Each idea needs a specific, "
    "click-worthy title and a one- or two-sentence description of its angle. Vary the "
    "formats: how-to, guide, comparison, checklist, buyer's guide."
)
ARTICLE_SYSTEM = (
    "You are an expert writer. Write the article in markdown: a single H1 title, an "
    "introduction, several H2 sections that work in the brief's keywords naturally, and a "
    "conclusion. At least 600 words; never under 300. Return the title and the markdown body."
)
IMAGE_PROMPTS_SYSTEM = (
    "You are a photo editor. Write one prompt for the article's featured image and zero to "
    "three prompts for images inside it (about one per two H2 sections). Describe concrete "
    "scenes for an image model; no text, logos or brand names in the images."
)


def cluster_messages(keywords: list[KeywordInput], existing: list[ExistingCluster]) -> Messages:
    payload = {
        "keywords": [
            {"id": k.id, "keyword": k.keyword, "volume": k.volume, "intent": k.intent}
            for k in keywords
        ],
        "existing_clusters": [
            {"id": c.id, "name": c.name, "keywords": list(c.keywords)} for c in existing
        ],
    }
    return _messages(CLUSTER_SYSTEM, payload)


def ideas_messages(cluster: ClusterInput) -> Messages:
    payload = {"name": cluster.name, "description": cluster.description,
               "keywords": list(cluster.keywords)}
    return _messages(IDEAS_SYSTEM, payload)


def article_messages(brief: ArticleBrief) -> Messages:
    payload = {"title": brief.title, "description": brief.description,
               "keywords": list(brief.keywords)}
    return _messages(ARTICLE_SYSTEM, payload)


def image_prompt_messages(article: ArticleInput) -> Messages:
    return _messages(IMAGE_PROMPTS_SYSTEM, {"title": article.title, "body": article.body})


def reask_messages(messages: Messages, answer: str, problem: str) -> Messages:
    return [
        *messages,
        {"role": "assistant", "content": answer},
        {
            "role": "user",
            "content": f"That answer could not be used: {problem}. Answer again with JSON "
            "that matches the schema exactly.",
        },
    ]


def _messages(system: str, payload: dict[str, Any]) -> Messages:
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": json.dumps(payload, ensure_ascii=False)},
    ]
