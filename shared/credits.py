"""Credits: what AI work costs, and the estimate of a whole run (CONTRACT §3.3 estimate).

Actual charges (what a stage debits after each AI call)
--------------------------------------------------------
- a text call (stages 1, 2, 4, 5): ``max(1, ceil(total_tokens / 1000))`` credits;
- images (stage 6): ``3`` credits per image generated.

Estimate (before a run; what admission checks)
----------------------------------------------
Each stage of the registry (``shared/stages.py``) declares its price per unit of work and
how many items it hands on to the next stage per item. A run also processes what its own
earlier stages create, so the estimate walks the stages in order from what is pending now:

- items of a stage = pending now + what the stage before hands on
  (``ceil(items before × yields)``: 1 cluster per 5 keywords, 2 ideas per cluster,
  1 task per idea, 1 content item per task, 3 images per content item);
- units of work = its items, or for a stage priced per AI call on a whole batch (stage 1)
  ``ceil(items / batch size)``;
- credits of a stage = units × its credits per unit
  (1, 1, 0, 2, 1, 3, 0 for stages 1..7).

``estimated_credits`` is the sum over stages, and a run is admitted when
``available_credits >= required_credits = ceil(1.2 × estimated_credits)``;
the 20 % margin covers calls that use more tokens than the flat estimate assumes.

Bound (before each batch, and before a resume: what the run may still spend must cover it)
------------------------------------------------------------------------------------------
The most a batch can cost, whatever the provider answers, from the limits each stage
declares in the registry:

- a batch makes one call per item, or one call for the whole batch (stage 1);
- a text call sends its items (at most ``input_tokens``: their UTF-8 bytes, since byte-level
  tokenizers never make more tokens than bytes) and the stage's instructions, and the answer
  is capped at the stage's ``output_token_cap(items)``, which grows with the keywords of a
  clustering call. A call makes up to ``ATTEMPTS_PER_CALL`` requests; a re-ask sends the
  conversation again with the earlier answer and a complaint of at most ``REASK_TOKENS``.
  The call's tokens are priced as a text call;
- an image call costs its images, ``IMAGE_CREDITS`` each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final

from shared.stages import ATTEMPTS_PER_CALL, REASK_TOKENS, STAGES, Stage
from shared.stages import stage as stage_of

TOKENS_PER_CREDIT: Final = 1000
IMAGE_CREDITS: Final = 3


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
class Estimate:
    """Estimated credits of a run, per stage and in total."""

    per_stage: dict[int, int]
    total: int


def projected_units(pending: Mapping[int, int], batch_sizes: Mapping[int, int]) -> dict[int, int]:
    """Units of work per stage for a run started now, downstream work included.

    ``pending`` and ``batch_sizes`` are keyed by stage number; a missing count is 0.
    """
    units, handed_on = {}, 0
    for stage in STAGES:
        items = _count(f"pending[{stage.number}]", pending.get(stage.number, 0)) + handed_on
        units[stage.number] = _units(stage, items, batch_sizes)
        handed_on = _ceil_fraction(items * stage.yields)
    return units


def estimate(pending: Mapping[int, int], batch_sizes: Mapping[int, int]) -> Estimate:
    """The credits a run started now is expected to use (see the module's docstring)."""
    units = projected_units(pending, batch_sizes)
    per_stage = {stage.number: units[stage.number] * stage.credits_per_unit for stage in STAGES}
    return Estimate(per_stage=per_stage, total=sum(per_stage.values()))


def batch_cost_estimate(number: int, items: int) -> int:
    """Estimated credits of one batch of ``items`` pending items of stage ``number``."""
    stage = stage_of(number)
    _require_non_negative_int("items", items)
    units = min(items, 1) if stage.per_batch else items
    return units * stage.credits_per_unit


# --- bound -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AICall:
    """One AI call of a batch: the items it carries, and at most how many tokens they make."""

    items: int
    input_tokens: int


def input_token_bound(text: str) -> int:
    """At most how many tokens ``text`` makes: byte-level BPE never makes more than its bytes."""
    return len(text.encode("utf-8"))


def calls_of_batch(number: int, item_tokens: Sequence[int], context_tokens: int = 0) -> list[AICall]:
    """The AI calls stage ``number`` makes for a batch whose items make ``item_tokens``;
    ``context_tokens`` is what each call sends besides its items and instructions."""
    stage = stage_of(number)
    for tokens in (*item_tokens, context_tokens):
        _require_non_negative_int("tokens", tokens)
    if not stage.makes_ai_calls or not item_tokens:
        return []
    if stage.per_batch:
        return [AICall(len(item_tokens), sum(item_tokens) + context_tokens)]
    return [AICall(1, tokens + context_tokens) for tokens in item_tokens]


def call_credit_bound(number: int, call: AICall) -> int:
    """The most one AI call of stage ``number`` can be charged (see the module's docstring)."""
    stage = stage_of(number)
    if stage.images_per_call:
        return credits_for_images(stage.images_per_call)
    sent = call.input_tokens + stage.instruction_tokens
    answer = stage.output_token_cap(call.items)
    # Each request sends what the one before did, plus its answer and a complaint.
    tokens = sum(sent + attempt * (answer + REASK_TOKENS) + answer for attempt in range(ATTEMPTS_PER_CALL))
    return credits_for_text_call(tokens)


def batch_credit_bound(number: int, calls: Sequence[AICall]) -> int:
    """The most a batch of stage ``number`` making ``calls`` can be charged."""
    return sum(call_credit_bound(number, call) for call in calls)


def _units(stage: Stage, items: int, batch_sizes: Mapping[int, int]) -> int:
    if not stage.per_batch:
        return items
    size = batch_sizes.get(stage.number)
    _require_positive_int(f"batch size of stage {stage.number}", size)
    return _ceil_div(items, size)


def _ceil_fraction(value: Fraction) -> int:
    return _ceil_div(value.numerator, value.denominator)


def _count(name: str, value: int) -> int:
    _require_non_negative_int(name, value)
    return value


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


def quote(pending: Mapping[int, int], config: Mapping[str, Any], available: int) -> Quote:
    """The one place the estimate and the 1.2 × margin are applied, for the API and admission.

    ``config`` is the site's automation config; its batch sizes price per-batch stages.
    """
    sizes = {stage.number: stage.batch_size(config) for stage in STAGES if stage.per_batch}
    result = estimate(pending, sizes)
    return Quote(result, required_credits(result.total), available)
