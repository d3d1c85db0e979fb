"""What each stage does to one batch of pending items (CONTRACT §4).

A stage turns items into a ``BatchOutcome``: the rows to write, the items that
failed, and the credits its AI calls used. Nothing is written here; the worker
commits the outcome together with the run's events.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Awaitable, Callable

from services.pipeline.adapters.event_store import SideWrite
from services.pipeline.application.ai_port import (
    AIError, AIProvider, ArticleBrief, ArticleInput, ClusterInput, ExistingCluster, KeywordInput,
)
from services.pipeline.domain.credits import credits_for_images, credits_for_text_call

Item = dict[str, Any]


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class BatchOutcome:
    processed: int = 0
    outputs_created: int = 0
    credits: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    writes: list[SideWrite] = field(default_factory=list)
    ready_for_review: list[tuple[str, str]] = field(default_factory=list)

    def fail(self, ctx: "StageContext", stage: int, item: Item, error: str) -> None:
        self.failures.append({"item_id": item["id"], "title": str(item.get("title", "")), "error": error})
        self.writes.append(ctx.sql.record_failure(ctx.run_id, stage, item["id"]))


@dataclass(frozen=True)
class StageContext:
    run_id: str
    site_id: str
    ai: AIProvider
    sql: ModuleType  # the store's SQL dialect, e.g. services.pipeline.adapters.planner_sql
    existing_clusters: Callable[[], Awaitable[list[dict[str, Any]]]]


async def keywords_to_clusters(ctx: StageContext, items: list[Item]) -> BatchOutcome:
    out = BatchOutcome()
    existing = [ExistingCluster(c["id"], c["name"], tuple(c["keywords"])) for c in await ctx.existing_clusters()]
    try:
        answer = await ctx.ai.cluster_keywords(
            [KeywordInput(i["id"], i["keyword"], i.get("volume"), i.get("intent")) for i in items], existing
        )
    except AIError as error:
        for item in items:  # one call for the batch: each of its keywords failed with it
            out.fail(ctx, 1, item, str(error))
        return out
    out.credits = credits_for_text_call(answer.usage.total_tokens)
    filed: set[str] = set()
    for cluster in answer.value.new_clusters:
        cluster_id = new_id()
        out.writes.append(ctx.sql.insert_cluster(cluster_id, ctx.site_id, ctx.run_id, cluster.name, cluster.description))
        out.outputs_created += 1
        for keyword_id in cluster.keyword_ids:
            out.writes.append(ctx.sql.assign_keyword(keyword_id, cluster_id))
            filed.add(keyword_id)
    for keyword_id, cluster_id in answer.value.assigned.items():
        out.writes.append(ctx.sql.assign_keyword(keyword_id, cluster_id))
        filed.add(keyword_id)
    for item in items:
        if item["id"] in filed:
            out.processed += 1
        else:
            out.fail(ctx, 1, item, "the clustering left this keyword out")
    return out


async def _each(ctx: StageContext, stage: int, items: list[Item], work: Callable[[Item, BatchOutcome], Awaitable[None]]) -> BatchOutcome:
    """Per-item stages: an item whose AI call fails is recorded and the batch goes on."""
    out = BatchOutcome()
    for item in items:
        try:
            await work(item, out)
            out.processed += 1
        except AIError as error:
            out.fail(ctx, stage, item, str(error))
    return out


async def clusters_to_ideas(ctx: StageContext, items: list[Item]) -> BatchOutcome:
    async def work(item: Item, out: BatchOutcome) -> None:
        answer = await ctx.ai.generate_ideas(
            ClusterInput(item["id"], item["name"], item["description"], tuple(item["keywords"]))
        )
        out.credits += credits_for_text_call(answer.usage.total_tokens)
        if not answer.value:
            raise AIError("no idea came back for this cluster")
        for position, idea in enumerate(answer.value):
            out.writes.append(ctx.sql.insert_idea(new_id(), ctx.site_id, item["id"], position, idea.title, idea.description))
            out.outputs_created += 1

    return await _each(ctx, 2, items, work)


async def ideas_to_tasks(ctx: StageContext, items: list[Item]) -> BatchOutcome:
    async def work(item: Item, out: BatchOutcome) -> None:
        out.writes.extend(ctx.sql.queue_idea(new_id(), ctx.site_id, item["id"], item["title"]))
        out.outputs_created += 1

    return await _each(ctx, 3, items, work)


async def tasks_to_content(ctx: StageContext, items: list[Item]) -> BatchOutcome:
    async def work(item: Item, out: BatchOutcome) -> None:
        answer = await ctx.ai.write_article(
            ArticleBrief(item["id"], item["title"], item["description"], tuple(item["keywords"]))
        )
        out.credits += credits_for_text_call(answer.usage.total_tokens)
        article = answer.value
        words = len(article.body.split())
        out.writes.extend(ctx.sql.insert_content(new_id(), ctx.site_id, item["id"], article.title, article.body, words))
        out.outputs_created += 1

    return await _each(ctx, 4, items, work)


async def content_to_image_prompts(ctx: StageContext, items: list[Item]) -> BatchOutcome:
    async def work(item: Item, out: BatchOutcome) -> None:
        answer = await ctx.ai.image_prompts(ArticleInput(item["id"], item["title"], item["body"]))
        out.credits += credits_for_text_call(answer.usage.total_tokens)
        prompts = answer.value
        if sum(1 for p in prompts if p.kind == "featured") != 1:
            raise AIError("an article needs exactly one featured image prompt")
        for position, prompt in enumerate(prompts):
            out.writes.append(ctx.sql.insert_image(new_id(), ctx.site_id, item["id"], position, prompt.kind, prompt.prompt))
            out.outputs_created += 1
        out.writes.append(ctx.sql.mark_prompts_done(item["id"]))

    return await _each(ctx, 5, items, work)


async def image_prompts_to_images(ctx: StageContext, items: list[Item]) -> BatchOutcome:
    out = BatchOutcome()
    for item in items:
        try:
            answer = await ctx.ai.generate_image(item["prompt"])
        except AIError as error:
            # The image is settled as failed, so its article can still pass the review gate.
            out.writes.append(ctx.sql.store_image(item["id"], "failed", None, None))
            out.fail(ctx, 6, item, str(error))
            continue
        out.credits += credits_for_images(answer.usage.images or 1)
        image = answer.value
        url = image.url or f"/api/v1/sites/{ctx.site_id}/images/{item['id']}/file"
        out.writes.append(ctx.sql.store_image(item["id"], "generated", url, image.png))
        out.processed += 1
        out.outputs_created += 1
    return out


async def review_gate(ctx: StageContext, items: list[Item]) -> BatchOutcome:
    async def work(item: Item, out: BatchOutcome) -> None:
        out.writes.append(ctx.sql.mark_for_review(item["id"]))
        out.ready_for_review.append((item["id"], item["title"]))
        out.outputs_created += 1

    return await _each(ctx, 7, items, work)


STAGE_WORK: dict[int, Callable[[StageContext, list[Item]], Awaitable[BatchOutcome]]] = {
    1: keywords_to_clusters,
    2: clusters_to_ideas,
    3: ideas_to_tasks,
    4: tasks_to_content,
    5: content_to_image_prompts,
    6: image_prompts_to_images,
    7: review_gate,
}
