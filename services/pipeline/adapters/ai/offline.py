"""The offline AI: deterministic, local, and useful enough to run the whole pipeline on.

Every call first sleeps ``latency_ms`` (to simulate a remote model) with ``asyncio.sleep``,
so cancelling the calling task aborts it at once. Usage is estimated from word counts so
credits behave as they would with a real model.
"""

from __future__ import annotations

import asyncio
import json
import re

from ...application.ai_port import (
    AIError,
    AIResult,
    Article,
    ArticleBrief,
    ArticleInput,
    ClusterInput,
    Clustering,
    ExistingCluster,
    GeneratedImage,
    Idea,
    ImagePrompt,
    KeywordInput,
    Usage,
)
from .article_writer import write_article
from .idea_writer import write_ideas
from .image_prompt_writer import write_image_prompts
from .keyword_clustering import cluster_keywords
from .png_placeholder import placeholder_png
from .token_estimate import estimate_tokens, tokens_for_words

# The instructions a real model would be given, counted towards prompt tokens.
_INSTRUCTIONS = {
    "cluster": "Group these search keywords into topical clusters and file any that fit the "
    "existing clusters. Name and describe each new cluster.",
    "ideas": "Propose one to three article ideas for this keyword cluster, each with a title "
    "and a description.",
    "article": "Write a markdown article of at least 300 words with headings for this brief.",
    "prompts": "Write one featured image prompt and up to three in-article image prompts for "
    "this article.",
}
# Clustering is pure Python, so a worker thread only helps the event loop once a call runs
# longer than the interpreter's switch interval (5 ms), the longest the loop would wait for
# the GIL: past about this many phrases compared (new keywords plus the existing clusters'
# names and keywords). A site's later batches, facing up to 300 clusters, take tens of ms.
_THREAD_THRESHOLD = 300


class OfflineAI:
    name = "offline"

    def __init__(self, latency_ms: int = 0, fail_pattern: str | None = None) -> None:
        if latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        self.latency_ms = latency_ms
        # Simulates a provider that refuses some requests: per-item calls whose input
        # matches fail with AIError, so failure handling can be exercised end to end.
        self.fail_pattern = re.compile(fail_pattern, re.IGNORECASE) if fail_pattern else None

    async def cluster_keywords(
        self, keywords: list[KeywordInput], existing: list[ExistingCluster]
    ) -> AIResult[Clustering]:
        await self._think()
        if len(keywords) + sum(1 + len(c.keywords) for c in existing) > _THREAD_THRESHOLD:
            result = await asyncio.to_thread(cluster_keywords, keywords, existing)
        else:
            result = cluster_keywords(keywords, existing)
        prompt = json.dumps(
            {
                "keywords": [k.keyword for k in keywords],
                "existing": [{"name": c.name, "keywords": c.keywords} for c in existing],
            }
        )
        answer = json.dumps(
            {
                "clusters": [[c.name, c.description, c.keyword_ids] for c in result.new_clusters],
                "assigned": result.assigned,
            }
        )
        usage = Usage(
            prompt_tokens=estimate_tokens(_INSTRUCTIONS["cluster"], prompt),
            completion_tokens=estimate_tokens(answer),
        )
        return AIResult(result, usage)

    async def generate_ideas(self, cluster: ClusterInput) -> AIResult[list[Idea]]:
        await self._think(cluster.name)
        ideas = write_ideas(cluster)
        usage = Usage(
            prompt_tokens=estimate_tokens(
                _INSTRUCTIONS["ideas"], cluster.name, cluster.description, *cluster.keywords
            ),
            completion_tokens=estimate_tokens(*(t for i in ideas for t in (i.title, i.description))),
        )
        return AIResult(ideas, usage)

    async def write_article(self, brief: ArticleBrief) -> AIResult[Article]:
        await self._think(brief.title)
        written = write_article(brief)
        usage = Usage(
            prompt_tokens=estimate_tokens(
                _INSTRUCTIONS["article"], brief.title, brief.description, *brief.keywords
            ),
            completion_tokens=tokens_for_words(written.words),
        )
        return AIResult(written.article, usage)

    async def image_prompts(self, article: ArticleInput) -> AIResult[list[ImagePrompt]]:
        await self._think(article.title)
        prompts = write_image_prompts(article)
        usage = Usage(
            prompt_tokens=estimate_tokens(_INSTRUCTIONS["prompts"], article.body),
            completion_tokens=estimate_tokens(*(p.prompt for p in prompts)),
        )
        return AIResult(prompts, usage)

    async def generate_image(self, prompt: str) -> AIResult[GeneratedImage]:
        await self._think(prompt)
        # Drawn on the event loop: a hop to a worker thread costs the process about 0.1 ms
        # of CPU itself, most of what the drawing costs, and CPU per item is what bounds
        # throughput on a busy machine.
        image = GeneratedImage(png=placeholder_png(prompt))
        return AIResult(image, Usage(prompt_tokens=estimate_tokens(prompt), images=1))

    async def aclose(self) -> None:
        return None

    async def _think(self, subject: str = "") -> None:
        # Always yield, even at zero latency, so a cancel lands before any work is done.
        await asyncio.sleep(self.latency_ms / 1000)
        if self.fail_pattern is not None and self.fail_pattern.search(subject):
            raise AIError(f"the offline AI was told to refuse requests about {subject[:80]!r}")
