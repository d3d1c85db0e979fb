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
    # The most one AI call of the stage may cost (shared/credits.py, ``batch_credit_bound``).
    # Text calls: the output tokens the provider may write (sent as ``max_completion_tokens``),
    # plus ``max_output_tokens_per_item`` for each item of a per-batch call, and the tokens of
    # the instructions the call sends besides its items. Image calls: images per call.
    max_output_tokens: int = 0
    max_output_tokens_per_item: int = 0
    instruction_tokens: int = 0
    images_per_call: int = 0

    @property
    def makes_ai_calls(self) -> bool:
        return bool(self.max_output_tokens or self.images_per_call)

    def output_token_cap(self, items: int) -> int:
        """The output tokens one text call carrying ``items`` items may write."""
        return min(OUTPUT_TOKEN_CEILING, self.max_output_tokens + self.max_output_tokens_per_item * items)

    @property
    def batch_size_key(self) -> str | None:
        return f"stage_{self.number}_batch_size" if self.configurable_batch else None

    def batch_size(self, config: Mapping[str, Any]) -> int:
        key = self.batch_size_key
        return int(config[key]) if key else self.fixed_batch_size


# Limits every AI adapter keeps, so that the bound of a call holds whichever provider answers:
# a call sends at most ATTEMPTS_PER_CALL requests (the first and one re-ask), and a re-ask adds
# at most REASK_TOKENS of complaint to the conversation it sends again.
ATTEMPTS_PER_CALL: Final = 2
REASK_TOKENS: Final = 600
# No call asks for more output than common models can write at all (a provider refuses more).
OUTPUT_TOKEN_CEILING: Final = 16_384

STAGES: Final[tuple[Stage, ...]] = (
    # A clustering answer lists every keyword's id (about 25 tokens each) and a cluster per few.
    Stage(1, "keywords_to_clusters", credits_per_unit=1, yields=Fraction(1, 5), per_batch=True,
          max_output_tokens=256, max_output_tokens_per_item=64, instruction_tokens=400),
    Stage(2, "clusters_to_ideas", credits_per_unit=1, yields=Fraction(2),
          max_output_tokens=1024, instruction_tokens=300),
    Stage(3, "ideas_to_tasks", credits_per_unit=0, yields=Fraction(1)),
    # An article of 600 to 1,500 words, in markdown.
    Stage(4, "tasks_to_content", credits_per_unit=2, yields=Fraction(1),
          max_output_tokens=4096, instruction_tokens=300),
    Stage(5, "content_to_image_prompts", credits_per_unit=1, yields=Fraction(3),
          max_output_tokens=1024, instruction_tokens=300),
    Stage(6, "image_prompts_to_images", credits_per_unit=3, yields=Fraction(0), images_per_call=1),
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


def stage_named(name: str) -> Stage:
    for candidate in STAGES:
        if candidate.name == name:
            return candidate
    raise ValueError(f"no stage is named {name!r}")


def stage_name(number: int) -> str:
    return stage(number).name


def next_stage(number: int) -> int | None:
    """The stage after ``number``, or None after the last."""
    position = STAGES.index(stage(number)) + 1
    return STAGES[position].number if position < len(STAGES) else None
