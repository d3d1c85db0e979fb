"""The bound measured on a batch in hand (services/pipeline/application/batch_bound.py): the
offline AI, which charges as a real model would, never costs a batch more than its bound."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from services.pipeline.adapters.ai.offline import OfflineAI
from services.pipeline.application.ai_port import ArticleBrief, ArticleInput, ClusterInput, ExistingCluster, KeywordInput
from services.pipeline.application.batch_bound import batch_bound, next_batch_bound
from shared.credits import credits_for_images, credits_for_text_call

pytestmark = pytest.mark.unit
LONG = "𝔼𝔰𝔭𝔯𝔢𝔰𝔰𝔬 " * 22  # 198 characters of four bytes: the costliest keyword the API takes


@dataclass
class FakePlanner:
    clusters: list[dict[str, Any]] = field(default_factory=list)
    batches: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    def existing_clusters(self, site_id: str) -> list[dict[str, Any]]:
        return self.clusters

    def load_batch(self, site_id: str, run_id: str, stage: int, limit: int) -> list[dict[str, Any]]:
        return self.batches.get(stage, [])[:limit]


@dataclass
class Run:
    current_stage: int
    site_id: str = "s"
    run_id: str = "r"
    config: dict[str, Any] = field(default_factory=lambda: {f"stage_{n}_batch_size": 5 for n in range(1, 7)})


def _keywords(count: int, text: str) -> list[dict[str, Any]]:
    return [{"id": f"00000000-0000-0000-0000-{n:012d}", "title": f"{text} {n}", "keyword": f"{text} {n}",
             "volume": 100 + n, "intent": None} for n in range(count)]


@pytest.mark.parametrize("text", ["best espresso machine for a small kitchen", LONG])
def test_a_clustering_batch_never_costs_more_than_its_bound(text: str) -> None:
    items = _keywords(50, text)
    existing = [{"id": f"c{n}", "name": f"{text[:30]} {n}", "keywords": [f"{text} {n}"] * 8} for n in range(30)]
    answer = asyncio.run(OfflineAI().cluster_keywords(
        [KeywordInput(i["id"], i["keyword"], i["volume"]) for i in items],
        [ExistingCluster(c["id"], c["name"], tuple(c["keywords"])) for c in existing]))
    charged = credits_for_text_call(answer.usage.total_tokens)
    bound = batch_bound(FakePlanner(clusters=existing), "s", 1, items)
    assert charged <= bound
    # The existing clusters the call sends count: without them the bound is smaller.
    assert batch_bound(FakePlanner(), "s", 1, items) < bound


def test_per_item_batches_never_cost_more_than_their_bound() -> None:
    ai = OfflineAI()
    cluster = {"id": "c1", "title": "Espresso", "name": "Espresso", "description": "Machines and grinders.",
               "keywords": ["best espresso machine", "espresso grinder", LONG]}
    ideas = asyncio.run(ai.generate_ideas(ClusterInput("c1", cluster["name"], cluster["description"],
                                                       tuple(cluster["keywords"]))))
    assert credits_for_text_call(ideas.usage.total_tokens) <= batch_bound(FakePlanner(), "s", 2, [cluster])

    task = {"id": "t1", "title": ideas.value[0].title, "description": ideas.value[0].description,
            "keywords": cluster["keywords"]}
    article = asyncio.run(ai.write_article(ArticleBrief("t1", task["title"], task["description"],
                                                        tuple(task["keywords"]))))
    assert credits_for_text_call(article.usage.total_tokens) <= batch_bound(FakePlanner(), "s", 4, [task])

    content = {"id": "x1", "title": article.value.title, "body": article.value.body}
    prompts = asyncio.run(ai.image_prompts(ArticleInput("x1", content["title"], content["body"])))
    assert credits_for_text_call(prompts.usage.total_tokens) <= batch_bound(FakePlanner(), "s", 5, [content])
    assert batch_bound(FakePlanner(), "s", 6, [{"id": "i1", "prompt": "a cup"}] * 4) == credits_for_images(4)


def test_a_resumed_run_is_priced_at_the_next_batch_it_has() -> None:
    tasks = [{"id": f"t{n}", "title": "Guide", "description": "", "keywords": []} for n in range(8)]
    planner = FakePlanner(batches={4: tasks})
    # Stage 3 is done, so stage 4's first batch (of 5, the config's size) is next.
    assert next_batch_bound(planner, Run(current_stage=3)) == batch_bound(planner, "s", 4, tasks[:5]) > 0
    assert next_batch_bound(planner, Run(current_stage=5)) == 0
    # A stage without AI calls costs nothing, even with AI work behind it.
    planner.batches[3] = [{"id": "i1", "title": "Idea"}]
    assert next_batch_bound(planner, Run(current_stage=3)) == 0
