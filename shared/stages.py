"""The stage registry: each stage of CONTRACT §4, declared once, in the order a run takes them.

Everything that lists, counts, configures or prices stages derives from ``STAGES``: the
config fields and their validation, the estimate, ``pipeline_overview``, the projector.
Numbers are the ones on the wire (CONTRACT §5) and never change meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final


@dataclass(frozen=True)
class Stage:
    number: int
    name: str
    # What one unit of work is priced at before a run (see shared/credits.py).
    credits_per_unit: int
    # Items this stage hands to the next one per item it processes, on average (the estimate).
    yields: Fraction
    # The configurable batch size; a stage without one works in batches of ``fixed_batch_size``.
    configurable_batch: bool = True
    fixed_batch_size: int = 50
    # One AI call per batch rather than per item: the batch is then the unit of work.
    per_batch: bool = False

    @property
    def batch_size_key(self) -> str | None:
        return f"stage_{self.number}_batch_size" if self.configurable_batch else None

    def batch_size(self, config: Mapping[str, Any]) -> int:
        key = self.batch_size_key
        return int(config[key]) if key else self.fixed_batch_size


STAGES: Final[tuple[Stage, ...]] = (
    Stage(1, "keywords_to_clusters", credits_per_unit=1, yields=Fraction(1, 5), per_batch=True),
    Stage(2, "clusters_to_ideas", credits_per_unit=1, yields=Fraction(2)),
    Stage(3, "ideas_to_tasks", credits_per_unit=0, yields=Fraction(1)),
    Stage(4, "tasks_to_content", credits_per_unit=2, yields=Fraction(1)),
    Stage(5, "content_to_image_prompts", credits_per_unit=1, yields=Fraction(3)),
    Stage(6, "image_prompts_to_images", credits_per_unit=3, yields=Fraction(0)),
    Stage(7, "review_gate", credits_per_unit=0, yields=Fraction(0), configurable_batch=False),
)
BY_NUMBER: Final[Mapping[int, Stage]] = {stage.number: stage for stage in STAGES}
FIRST_STAGE: Final = STAGES[0].number
LAST_STAGE: Final = STAGES[-1].number
BATCH_SIZE_KEYS: Final[tuple[str, ...]] = tuple(s.batch_size_key for s in STAGES if s.batch_size_key)


def stage(number: int) -> Stage:
    try:
        return BY_NUMBER[number]
    except KeyError:
        raise ValueError(f"stage must be {FIRST_STAGE}..{LAST_STAGE}, got {number!r}") from None


def stage_name(number: int) -> str:
    return stage(number).name


def next_stage(number: int) -> int | None:
    """The stage after ``number``, or None after the last."""
    position = STAGES.index(stage(number)) + 1
    return STAGES[position].number if position < len(STAGES) else None
