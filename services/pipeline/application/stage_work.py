"""What each stage does to one batch of pending items (CONTRACT §4), and which AI call it makes.

A stage turns items into a ``BatchOutcome``: the rows to write, the items that
failed, and the credits its AI calls used. Nothing is written here; the worker
commits the outcome together with the run's events.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from services.pipeline.application.ai_port import (
    AIError, ArticleBrief, ArticleInput, ClusterInput, ExistingCluster, KeywordInput,
)
from services.pipeline.application.ai_slots import CallNotStarted
from services.pipeline.application.ports import Item, PlannerWrites, SideWrite
from shared.credits import credits_for_images, credits_for_text_call
from shared.stages import STAGES, Stage


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

    def fail(self, ctx: "StageContext", item: Item, error: str) -> None:
        self.failures.append({"item_id": item["id"], "title": str(item.get("title", "")), "error": error})
        self.writes.append(ctx.rows.record_failure(ctx.run_id, ctx.stage, item["id"]))

    def insert(self, ctx: "StageContext", table: str, **row: Any) -> str:
        """A new output row of the site; returns its id."""
        row_id = new_id()
        self.writes.append(ctx.rows.insert(table, {"id": row_id, "site_id": ctx.site_id, **row}))
        self.outputs_created += 1
        return row_id


@dataclass(frozen=True)
class StageContext:
    run_id: str
    site_id: str
    stage: int
    rows: PlannerWrites
    ask: Callable[..., Awaitable[Any]] | None  # the AI port method the stage declared
    existing_clusters: Callable[[], Awaitable[list[Item]]]


async def _each(ctx: StageContext, items: list[Item], work: Callable[[Item, BatchOutcome], Awaitable[None]]) -> BatchOutcome:
    """Per-item stages: an item whose AI call fails is recorded and the batch goes on; one whose
    call never started (the run stopped first) is left pending, neither done nor failed."""
    out = BatchOutcome()
    for item in items:
        try:
            await work(item, out)
            out.processed += 1
        except CallNotStarted:
            continue
        except AIError as error:
            out.fail(ctx, item, str(error))
    return out


async def keywords_to_clusters(ctx: StageContext, items: list[Item]) -> BatchOutcome:
    out = BatchOutcome()
    existing = [ExistingCluster(c["id"], c["name"], tuple(c["keywords"])) for c in await ctx.existing_clusters()]
    try:
        answer = await ctx.ask([KeywordInput(i["id"], i["keyword"], i.get("volume"), i.get("intent")) for i in items],
                               existing)
    except CallNotStarted:
        return out  # the run stopped first: the batch's keywords stay pending
    except AIError as error:
        for item in items:  # one call for the batch: each of its keywords failed with it
            out.fail(ctx, item, str(error))
        return out
    out.credits = credits_for_text_call(answer.usage.total_tokens)
    filing: dict[str, str] = {}  # keyword id -> cluster id; the first filing of a keyword counts
    for cluster in answer.value.new_clusters:
        cluster_id = out.insert(ctx, "clusters", run_id=ctx.run_id, name=cluster.name, description=cluster.description)
        for keyword_id in cluster.keyword_ids:
            filing.setdefault(keyword_id, cluster_id)
    for keyword_id, cluster_id in answer.value.assigned.items():
        filing.setdefault(keyword_id, cluster_id)
    for keyword_id, cluster_id in filing.items():
        # Guarded: a keyword stays in the first cluster it was filed into.
        out.writes.append(ctx.rows.update("keywords", keyword_id, {"cluster_id": cluster_id, "status": "mapped"},
                                          when={"cluster_id": None}))
    for item in items:
        if item["id"] in filing:
            out.processed += 1
        else:
            out.fail(ctx, item, "the clustering left this keyword out")
    return out


async def clusters_to_ideas(ctx: StageContext, items: list[Item]) -> BatchOutcome:
    async def work(item: Item, out: BatchOutcome) -> None:
        answer = await ctx.ask(ClusterInput(item["id"], item["name"], item["description"], tuple(item["keywords"])))
        out.credits += credits_for_text_call(answer.usage.total_tokens)
        if not answer.value:
            raise AIError("no idea came back for this cluster")
        for position, idea in enumerate(answer.value):
            out.insert(ctx, "ideas", cluster_id=item["id"], position=position, title=idea.title,
                       description=idea.description)

    return await _each(ctx, items, work)


async def ideas_to_tasks(ctx: StageContext, items: list[Item]) -> BatchOutcome:
    async def work(item: Item, out: BatchOutcome) -> None:
        out.insert(ctx, "tasks", idea_id=item["id"], title=item["title"])
        out.writes.append(ctx.rows.update("ideas", item["id"], {"status": "queued"}))

    return await _each(ctx, items, work)


async def tasks_to_content(ctx: StageContext, items: list[Item]) -> BatchOutcome:
    async def work(item: Item, out: BatchOutcome) -> None:
        answer = await ctx.ask(ArticleBrief(item["id"], item["title"], item["description"], tuple(item["keywords"])))
        out.credits += credits_for_text_call(answer.usage.total_tokens)
        article = answer.value
        out.insert(ctx, "content", task_id=item["id"], title=article.title, body=article.body,
                   word_count=len(article.body.split()))
        out.writes.append(ctx.rows.update("tasks", item["id"], {"status": "completed"}))

    return await _each(ctx, items, work)


async def content_to_image_prompts(ctx: StageContext, items: list[Item]) -> BatchOutcome:
    async def work(item: Item, out: BatchOutcome) -> None:
        answer = await ctx.ask(ArticleInput(item["id"], item["title"], item["body"]))
        out.credits += credits_for_text_call(answer.usage.total_tokens)
        prompts = answer.value
        if sum(1 for p in prompts if p.kind == "featured") != 1:
            raise AIError("an article needs exactly one featured image prompt")
        for position, prompt in enumerate(prompts):
            out.insert(ctx, "images", content_id=item["id"], position=position, kind=prompt.kind, prompt=prompt.prompt)
        out.writes.append(ctx.rows.update("content", item["id"], {"prompts_done": True}))

    return await _each(ctx, items, work)


async def image_prompts_to_images(ctx: StageContext, items: list[Item]) -> BatchOutcome:
    async def work(item: Item, out: BatchOutcome) -> None:
        try:
            answer = await ctx.ask(item["prompt"])
        except AIError:
            # The image is settled as failed, so its article can still pass the review gate.
            out.writes.append(ctx.rows.update("images", item["id"], {"status": "failed", "url": None, "png": None}))
            raise
        out.credits += credits_for_images(answer.usage.images or 1)
        image = answer.value
        url = image.url or f"/api/v1/sites/{ctx.site_id}/images/{item['id']}/file"
        out.writes.append(ctx.rows.update("images", item["id"], {"status": "generated", "url": url, "png": image.png}))
        out.outputs_created += 1

    return await _each(ctx, items, work)


async def review_gate(ctx: StageContext, items: list[Item]) -> BatchOutcome:
    async def work(item: Item, out: BatchOutcome) -> None:
        out.writes.append(ctx.rows.update("content", item["id"], {"status": "review"}, when={"status": "draft"}))
        out.ready_for_review.append((item["id"], item["title"]))
        out.outputs_created += 1

    return await _each(ctx, items, work)


Work = Callable[[StageContext, list[Item]], Awaitable[BatchOutcome]]


@dataclass(frozen=True)
class StageWork:
    """The pipeline's side of a stage of the registry (shared/stages.py)."""

    stage: Stage
    work: Work
    ai_method: str | None  # the AIProvider method its work calls; None: no AI, no credit check

    @property
    def number(self) -> int:
        return self.stage.number


# By stage name, so that a stage in the registry without its work here fails at import.
_BY_NAME: dict[str, tuple[Work, str | None]] = {
    "keywords_to_clusters": (keywords_to_clusters, "cluster_keywords"),
    "clusters_to_ideas": (clusters_to_ideas, "generate_ideas"),
    "ideas_to_tasks": (ideas_to_tasks, None),
    "tasks_to_content": (tasks_to_content, "write_article"),
    "content_to_image_prompts": (content_to_image_prompts, "image_prompts"),
    "image_prompts_to_images": (image_prompts_to_images, "generate_image"),
    "review_gate": (review_gate, None),
}
STAGE_WORK: dict[int, StageWork] = {s.number: StageWork(s, *_BY_NAME[s.name]) for s in STAGES}
