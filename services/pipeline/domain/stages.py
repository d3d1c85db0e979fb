"""The seven stages of CONTRACT §4, by number."""

from __future__ import annotations

STAGE_NAMES: dict[int, str] = {
    1: "keywords_to_clusters",
    2: "clusters_to_ideas",
    3: "ideas_to_tasks",
    4: "tasks_to_content",
    5: "content_to_image_prompts",
    6: "image_prompts_to_images",
    7: "review_gate",
}
LAST_STAGE = 7
AI_STAGES = frozenset({1, 2, 4, 5, 6})


def stage_name(stage: int) -> str:
    return STAGE_NAMES[stage]
