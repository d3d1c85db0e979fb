"""Credits: what AI work costs, and the estimate of a whole run (CONTRACT §3.3 estimate).

Actual charges (what a stage debits after each AI call)
--------------------------------------------------------
- a text call (stages 1, 2, 4, 5): ``max(1, ceil(total_tokens / 1000))`` credits;
- images (stage 6): ``3`` credits per image generated.

Estimate (before a run; what admission checks)
----------------------------------------------
Credits per unit of work:

=====  ==========================  =====================  ===================
stage  name                        unit of work           credits per unit
=====  ==========================  =====================  ===================
1      keywords_to_clusters        clustering call        1
2      clusters_to_ideas           cluster                1
3      ideas_to_tasks              idea                   0 (no AI)
4      tasks_to_content            task                   2
5      content_to_image_prompts    content item           1
6      image_prompts_to_images     image                  3
7      review_gate                 content item           0 (no AI)
=====  ==========================  =====================  ===================

A run also processes what its own earlier stages create, so the estimate projects that
downstream work from what is pending now:

- clustering calls = ceil(pending keywords / stage_1_batch_size);
- clusters = pending clusters + ceil(pending keywords / 5)   (5 keywords per new cluster);
- ideas = pending ideas + 2 × clusters                       (2 ideas per cluster);
- tasks = pending tasks + ideas;  content = pending content + tasks;
- images = pending images + 3 × content                      (3 images per content item).

``estimated_credits`` is the sum over stages of units × credits per unit, and a run is
admitted when ``available_credits >= required_credits = ceil(1.2 × estimated_credits)``;
the 20 % margin covers calls that use more tokens than the flat estimate assumes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Final

TOKENS_PER_CREDIT: Final = 1000
IMAGE_CREDITS: Final = 3

KEYWORDS_PER_CLUSTER: Final = 5
IDEAS_PER_CLUSTER: Final = 2
IMAGES_PER_CONTENT: Final = 3

STAGES: Final = tuple(range(1, 8))
CREDITS_PER_UNIT: Final[Mapping[int, int]] = MappingProxyType(
    {1: 1, 2: 1, 3: 0, 4: 2, 5: 1, 6: IMAGE_CREDITS, 7: 0}
)

# required = ceil(estimate × 6/5): integer arithmetic, because 1.2 is not exact in binary.
_MARGIN_NUMERATOR: Final = 6
_MARGIN_DENOMINATOR: Final = 5


# --- actual charges ------------------------------------------------------------------------


def credits_for_text_call(total_tokens: int) -> int:
    """Credits for one text AI call: one per started 1000 tokens, at least one."""
    _require_non_negative_int("total_tokens", total_tokens)
    return max(1, _ceil_div(total_tokens, TOKENS_PER_CREDIT))


def credits_for_images(count: int) -> int:
    """Credits for ``count`` generated images."""
    _require_non_negative_int("count", count)
    return count * IMAGE_CREDITS


# --- estimate ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingCounts:
    """What each stage would find pending right now (CONTRACT §4 'input')."""

    keywords: int = 0
    clusters: int = 0
    ideas: int = 0
    tasks: int = 0
    content: int = 0
    images: int = 0

    def __post_init__(self) -> None:
        for field in fields(self):
            _require_non_negative_int(field.name, getattr(self, field.name))


@dataclass(frozen=True)
class Estimate:
    """Estimated credits of a run, per stage (keys 1..7) and in total."""

    per_stage: dict[int, int]
    total: int


def projected_units(pending: PendingCounts, stage_1_batch_size: int) -> dict[int, int]:
    """Units of work per stage (keys 1..7) for a run started now, downstream work included."""
    _require_positive_int("stage_1_batch_size", stage_1_batch_size)
    clustering_calls = _ceil_div(pending.keywords, stage_1_batch_size)
    clusters = pending.clusters + _ceil_div(pending.keywords, KEYWORDS_PER_CLUSTER)
    ideas = pending.ideas + IDEAS_PER_CLUSTER * clusters
    tasks = pending.tasks + ideas
    content = pending.content + tasks
    images = pending.images + IMAGES_PER_CONTENT * content
    # Stage 7 costs nothing, so its units (content reaching review) are not projected.
    return {1: clustering_calls, 2: clusters, 3: ideas, 4: tasks, 5: content, 6: images, 7: 0}


def estimate(pending: PendingCounts, stage_1_batch_size: int) -> Estimate:
    """The credits a run started now is expected to use (see the module's table)."""
    units = projected_units(pending, stage_1_batch_size)
    per_stage = {stage: units[stage] * CREDITS_PER_UNIT[stage] for stage in STAGES}
    return Estimate(per_stage=per_stage, total=sum(per_stage.values()))


def batch_cost_estimate(stage: int, items: int) -> int:
    """Estimated credits of one batch of ``items`` pending items of ``stage`` (same table).

    A stage-1 batch is a single clustering call however many keywords it holds.
    """
    if stage not in CREDITS_PER_UNIT:
        raise ValueError(f"stage must be 1..7, got {stage!r}")
    _require_non_negative_int("items", items)
    units = min(items, 1) if stage == 1 else items
    return units * CREDITS_PER_UNIT[stage]


def required_credits(estimated: int) -> int:
    """Credits an account must hold to start a run: ``ceil(1.2 × estimated)``, exactly."""
    _require_non_negative_int("estimated", estimated)
    return _ceil_div(estimated * _MARGIN_NUMERATOR, _MARGIN_DENOMINATOR)


def is_sufficient(available: int, estimated: int) -> bool:
    """Whether ``available`` credits cover ``required_credits(estimated)``."""
    return available >= required_credits(estimated)


# --- helpers ----------------------------------------------------------------------------------


def _ceil_div(numerator: int, denominator: int) -> int:
    # Floor division of the negation: exact for any int size, unlike math.ceil(a / b).
    return -(-numerator // denominator)


def _require_non_negative_int(name: str, value: object) -> None:
    # bool is an int subclass; True as a count is a bug upstream, not 1.
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be an int >= 0, got {value!r}")


def _require_positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")


@dataclass(frozen=True)
class Quote:
    """What a run would cost now, and whether the account may start it (admission's rule)."""

    estimate: Estimate
    required: int
    available: int

    @property
    def sufficient(self) -> bool:
        return self.available >= self.required


def quote(pending_by_stage: Mapping[int, int], stage_1_batch_size: int, available: int) -> Quote:
    """The one place the estimate and the 1.2 × margin are applied, for the API and admission."""
    pending = PendingCounts(*(pending_by_stage.get(stage, 0) for stage in range(1, 7)))
    result = estimate(pending, stage_1_batch_size)
    return Quote(result, required_credits(result.total), available)
