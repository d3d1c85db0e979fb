"""Unit tests of shared/credits.py and the stage registry it prices."""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.credits import (
    IMAGE_CREDITS,
    TOKENS_PER_CREDIT,
    Estimate,
    batch_cost_estimate,
    credits_for_images,
    credits_for_text_call,
    is_sufficient,
    projected_units,
    quote,
    required_credits,
)
from shared.credits import estimate as estimate_by_stage
from shared.stages import STAGES

pytestmark = pytest.mark.unit


@dataclasses.dataclass(frozen=True)
class PendingCounts:
    """Pending items of stages 1..6 by what they are (CONTRACT §4 'input')."""

    keywords: int = 0
    clusters: int = 0
    ideas: int = 0
    tasks: int = 0
    content: int = 0
    images: int = 0

    def by_stage(self) -> dict[int, int]:
        return {stage: getattr(self, field.name) for stage, field in enumerate(dataclasses.fields(self), start=1)}


def estimate(pending: PendingCounts, stage_1_batch_size: object) -> Estimate:
    return estimate_by_stage(pending.by_stage(), {1: stage_1_batch_size})  # type: ignore[dict-item]


def units(pending: PendingCounts, stage_1_batch_size: int) -> dict[int, int]:
    return projected_units(pending.by_stage(), {1: stage_1_batch_size})


COUNT_FIELDS = [field.name for field in dataclasses.fields(PendingCounts)]

counts = st.integers(0, 10_000)
pending_counts = st.builds(PendingCounts, counts, counts, counts, counts, counts, counts)
batch_sizes = st.integers(1, 500)


# --- actual charges ----------------------------------------------------------------------------


def test_constants() -> None:
    assert TOKENS_PER_CREDIT == 1000
    assert IMAGE_CREDITS == 3
    assert {s.number: s.credits_per_unit for s in STAGES} == {1: 1, 2: 1, 3: 0, 4: 2, 5: 1, 6: 3, 7: 0}


@pytest.mark.parametrize(
    ("tokens", "credits"),
    [(0, 1), (1, 1), (999, 1), (1000, 1), (1001, 2), (2000, 2), (2001, 3), (10**30 + 1, 10**27 + 1)],
)
def test_credits_for_text_call(tokens: int, credits: int) -> None:
    assert credits_for_text_call(tokens) == credits


@given(st.integers(0, 10**40))
def test_text_call_credits_are_one_per_started_thousand_tokens(tokens: int) -> None:
    credits = credits_for_text_call(tokens)
    assert credits >= 1
    assert credits == max(1, math.ceil(Fraction(tokens, TOKENS_PER_CREDIT)))
    assert credits_for_text_call(tokens + 1) >= credits


@pytest.mark.parametrize(("images", "credits"), [(0, 0), (1, 3), (4, 12)])
def test_credits_for_images(images: int, credits: int) -> None:
    assert credits_for_images(images) == credits


@pytest.mark.parametrize("bad", [-1, True, 1.5, "3", None])
def test_charges_refuse_bad_counts(bad: object) -> None:
    with pytest.raises(ValueError):
        credits_for_text_call(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        credits_for_images(bad)  # type: ignore[arg-type]


# --- pending counts ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", COUNT_FIELDS)
@pytest.mark.parametrize("bad", [-1, True, 2.0, None])
def test_estimate_refuses_bad_pending_counts(name: str, bad: object) -> None:
    with pytest.raises(ValueError):
        estimate(PendingCounts(**{name: bad}), 20)  # type: ignore[arg-type]


# --- estimate: examples ---------------------------------------------------------------------------


def test_nothing_pending_costs_nothing() -> None:
    result = estimate(PendingCounts(), stage_1_batch_size=20)
    assert result == Estimate(per_stage={stage: 0 for stage in range(1, 8)}, total=0)


def test_keywords_alone_project_the_whole_pipeline() -> None:
    # 42 keywords, batch 20: 3 calls; 9 clusters; 18 ideas, tasks, contents; 54 images.
    assert units(PendingCounts(keywords=42), 20) == {1: 3, 2: 9, 3: 18, 4: 18, 5: 18, 6: 54, 7: 0}
    result = estimate(PendingCounts(keywords=42), 20)
    assert result.per_stage == {1: 3, 2: 9, 3: 0, 4: 36, 5: 18, 6: 162, 7: 0}
    assert result.total == 228


def test_pending_work_at_every_stage_adds_up() -> None:
    pending = PendingCounts(keywords=5, clusters=1, ideas=1, tasks=1, content=1, images=1)
    # s1 = 1 call; s2 = 1 + 1 = 2; s3 = 1 + 4 = 5; s4 = 1 + 5 = 6; s5 = 1 + 6 = 7; s6 = 1 + 21 = 22
    assert units(pending, 1) == {1: 5, 2: 2, 3: 5, 4: 6, 5: 7, 6: 22, 7: 0}
    assert units(pending, 5)[1] == 1
    result = estimate(pending, 5)
    assert result.per_stage == {1: 1, 2: 2, 3: 0, 4: 12, 5: 7, 6: 66, 7: 0}
    assert result.total == 88


def test_only_images_pending() -> None:
    assert estimate(PendingCounts(images=4), 20).total == 12


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, None])
def test_estimate_refuses_bad_batch_size(bad: object) -> None:
    with pytest.raises(ValueError):
        estimate(PendingCounts(keywords=1), bad)  # type: ignore[arg-type]


# --- estimate: properties --------------------------------------------------------------------------


@given(pending_counts, batch_sizes)
def test_estimate_has_every_stage_and_sums_to_total(pending: PendingCounts, batch: int) -> None:
    result = estimate(pending, batch)
    assert sorted(result.per_stage) == [1, 2, 3, 4, 5, 6, 7]
    assert all(credits >= 0 for credits in result.per_stage.values())
    assert result.per_stage[3] == 0 and result.per_stage[7] == 0
    assert sum(result.per_stage.values()) == result.total


@given(pending_counts, batch_sizes)
def test_estimate_matches_the_documented_formulas(pending: PendingCounts, batch: int) -> None:
    s1 = math.ceil(Fraction(pending.keywords, batch))
    s2 = pending.clusters + math.ceil(Fraction(pending.keywords, 5))
    s3 = pending.ideas + 2 * s2
    s4 = pending.tasks + s3
    s5 = pending.content + s4
    s6 = pending.images + 3 * s5
    assert estimate(pending, batch).per_stage == {1: s1, 2: s2, 3: 0, 4: 2 * s4, 5: s5, 6: 3 * s6, 7: 0}


@given(pending_counts, batch_sizes, st.sampled_from(COUNT_FIELDS), st.integers(1, 1000))
def test_estimate_is_monotone_in_every_pending_count(
    pending: PendingCounts, batch: int, name: str, extra: int
) -> None:
    more = dataclasses.replace(pending, **{name: getattr(pending, name) + extra})
    before, after = estimate(pending, batch), estimate(more, batch)
    assert after.total >= before.total
    if name != "keywords":  # a keyword more may still fit the same call and cluster
        assert after.total > before.total
    assert all(after.per_stage[stage] >= before.per_stage[stage] for stage in range(1, 8))


@given(pending_counts, batch_sizes, st.integers(1, 100))
def test_larger_stage_1_batches_never_cost_more(pending: PendingCounts, batch: int, extra: int) -> None:
    assert estimate(pending, batch + extra).total <= estimate(pending, batch).total


# --- one batch --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "items", "credits"),
    [(1, 0, 0), (1, 1, 1), (1, 20, 1), (2, 3, 3), (3, 20, 0), (4, 2, 4), (5, 3, 3), (6, 4, 12), (7, 50, 0)],
)
def test_batch_cost_estimate(stage: int, items: int, credits: int) -> None:
    assert batch_cost_estimate(stage, items) == credits


@pytest.mark.parametrize(("stage", "items"), [(0, 1), (8, 1), (1, -1), (2, True)])
def test_batch_cost_estimate_refuses_bad_input(stage: int, items: int) -> None:
    with pytest.raises(ValueError):
        batch_cost_estimate(stage, items)


@given(pending_counts, batch_sizes)
def test_whole_batches_of_a_stage_add_up_to_its_estimate(pending: PendingCounts, batch: int) -> None:
    # Stage 1 split into batches of `batch` keywords costs exactly its share of the estimate.
    full, rest = divmod(pending.keywords, batch)
    batches = [batch] * full + ([rest] if rest else [])
    assert sum(batch_cost_estimate(1, size) for size in batches) == estimate(pending, batch).per_stage[1]
    projected = units(pending, batch)
    for stage in (2, 3, 4, 5, 6, 7):
        assert batch_cost_estimate(stage, projected[stage]) == estimate(pending, batch).per_stage[stage]


# --- required credits and sufficiency ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("estimated", "required"),
    [(0, 0), (1, 2), (4, 5), (5, 6), (10, 12), (228, 274), (88, 106), (100, 120)],
)
def test_required_credits_examples(estimated: int, required: int) -> None:
    assert required_credits(estimated) == required


def test_required_credits_is_exact_where_floats_are_not() -> None:
    # Past 2**53 floats drop the low digits: ceil(1.2 * n) is off by 6 here.
    estimated = 10**17 + 5
    assert math.ceil(1.2 * estimated) == 120_000_000_000_000_000
    assert required_credits(estimated) == 120_000_000_000_000_006
    huge = 10**40 + 3
    assert required_credits(huge) == math.ceil(Fraction(6, 5) * huge)


@given(st.integers(0, 10**60))
def test_required_credits_is_ceil_of_six_fifths_exactly(estimated: int) -> None:
    required = required_credits(estimated)
    assert required == math.ceil(Fraction(12, 10) * estimated)
    assert required >= estimated
    assert 5 * required >= 6 * estimated > 5 * (required - 1)


@pytest.mark.parametrize("bad", [-1, True, 1.0, None])
def test_required_credits_refuses_bad_estimates(bad: object) -> None:
    with pytest.raises(ValueError):
        required_credits(bad)  # type: ignore[arg-type]


@given(st.integers(-10, 10**9), st.integers(0, 10**9))
def test_sufficient_exactly_when_available_covers_required(available: int, estimated: int) -> None:
    assert is_sufficient(available, estimated) == (available >= required_credits(estimated))


def test_sufficiency_boundary() -> None:
    assert is_sufficient(120, 100)
    assert not is_sufficient(119, 100)
    assert is_sufficient(0, 0)


def test_quote_applies_the_estimate_and_the_margin_once_for_everyone() -> None:
    config = {key: 5 for key in ("stage_1_batch_size", "stage_2_batch_size", "stage_3_batch_size")}
    offer = quote({1: 10, 6: 2}, config, available=40)
    assert offer.estimate == estimate(PendingCounts(keywords=10, images=2), 5)
    assert offer.required == required_credits(offer.estimate.total)
    assert offer.sufficient == (40 >= offer.required)
    assert quote({}, {"stage_1_batch_size": 20}, available=0).sufficient  # nothing pending costs nothing
