"""The stage registry: CONTRACT §4's stages in wire order, and every use of it agrees."""

from __future__ import annotations

import pytest

from services.pipeline.application.ai_port import AIProvider
from services.pipeline.application.stage_work import STAGE_WORK
from shared.stages import BATCH_SIZE_KEYS, LAST_STAGE, STAGES, next_stage, stage

pytestmark = pytest.mark.unit


def test_the_contract_numbers_and_names() -> None:
    assert [(s.number, s.name) for s in STAGES] == [
        (1, "keywords_to_clusters"), (2, "clusters_to_ideas"), (3, "ideas_to_tasks"),
        (4, "tasks_to_content"), (5, "content_to_image_prompts"), (6, "image_prompts_to_images"),
        (7, "review_gate"),
    ]
    assert LAST_STAGE == 7


def test_batch_size_keys_are_the_configs() -> None:
    assert BATCH_SIZE_KEYS == tuple(f"stage_{n}_batch_size" for n in range(1, 7))
    assert stage(7).batch_size({}) == 50
    assert stage(2).batch_size({"stage_2_batch_size": 3}) == 3


def test_next_stage_walks_the_registry() -> None:
    assert [next_stage(s.number) for s in STAGES] == [2, 3, 4, 5, 6, 7, None]
    with pytest.raises(ValueError):
        stage(8)


def test_every_stage_has_its_work_and_an_ai_method_the_port_has() -> None:
    assert sorted(STAGE_WORK) == [s.number for s in STAGES]
    for entry in STAGE_WORK.values():
        assert entry.ai_method is None or callable(getattr(AIProvider, entry.ai_method))
        # A stage that makes no AI call costs nothing, so it needs no credit check.
        assert (entry.ai_method is None) == (entry.stage.credits_per_unit == 0)
