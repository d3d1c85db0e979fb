"""The same offline AI calls the pipeline makes for the sample site, in a plain loop: no
Kafka, no database, no events. What the pipeline's items/s is compared against.

Items are counted as the pipeline counts them (CONTRACT §4): keywords, clusters, ideas,
tasks, articles, images and articles at the review gate.
"""

from __future__ import annotations

import asyncio
import time
import uuid

from services.pipeline.adapters.ai.offline import OfflineAI
from services.pipeline.application.ai_port import (
    ArticleBrief, ArticleInput, ClusterInput, ExistingCluster, KeywordInput,
)
from tests.support.samples import sample_keywords

CLUSTER_BATCH = 20  # stage_1_batch_size's default


async def _chain(ai: OfflineAI, keywords: list[dict]) -> int:
    inputs = [KeywordInput(str(uuid.uuid4()), k["keyword"], k["volume"], k["intent"]) for k in keywords]
    words = {k.id: k.keyword for k in inputs}
    clusters: list[ExistingCluster] = []
    for start in range(0, len(inputs), CLUSTER_BATCH):
        answer = await ai.cluster_keywords(inputs[start:start + CLUSTER_BATCH], clusters[-300:])
        clusters += [ExistingCluster(str(uuid.uuid4()), c.name, tuple(words[i] for i in c.keyword_ids[:8]))
                     for c in answer.value.new_clusters]
    items = len(inputs) + len(clusters)
    for cluster in clusters:
        ideas = (await ai.generate_ideas(ClusterInput(cluster.id, cluster.name, cluster.name, cluster.keywords))).value
        for idea in ideas:
            items += 4  # the idea (stage 3), its task (4), its article (5) and at the review gate (7)
            article = (await ai.write_article(
                ArticleBrief(str(uuid.uuid4()), idea.title, idea.description, cluster.keywords))).value
            prompts = (await ai.image_prompts(ArticleInput(str(uuid.uuid4()), article.title, article.body))).value
            for prompt in prompts:
                await ai.generate_image(prompt.prompt)
                items += 1
    return items


def items_per_second(keywords: int | None = None) -> tuple[float, int, float]:
    """(items/s, items, seconds) of the whole chain over the sample keywords at 0 ms."""
    started = time.perf_counter()
    items = asyncio.run(_chain(OfflineAI(latency_ms=0), sample_keywords(keywords)))
    wall = time.perf_counter() - started
    return items / wall, items, wall
