"""The bound of a batch (shared/credits.py): the most its AI calls can be charged, from the
limits each stage declares in the registry."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.credits import (
    AICall,
    batch_cost_estimate,
    batch_credit_bound,
    call_credit_bound,
    calls_of_batch,
    credits_for_text_call,
    input_token_bound,
)
from shared.stages import ATTEMPTS_PER_CALL, OUTPUT_TOKEN_CEILING, REASK_TOKENS, STAGES, stage

pytestmark = pytest.mark.unit
TEXT_STAGES = [s.number for s in STAGES if s.max_output_tokens]


def test_a_clustering_call_s_bound_grows_with_its_keywords() -> None:
    bounds = [batch_credit_bound(1, calls_of_batch(1, [40] * keywords)) for keywords in (1, 10, 100, 1000)]
    assert bounds == sorted(bounds) and len(set(bounds)) == 4
    # The flat estimate priced any clustering call at 1 credit, however many keywords it carried.
    assert batch_cost_estimate(1, 100) == 1 < bounds[2]


def test_a_clustering_call_is_one_call_for_the_batch_and_the_others_one_per_item() -> None:
    assert calls_of_batch(1, [10, 20, 30], context_tokens=5) == [AICall(3, 65)]
    assert calls_of_batch(4, [10, 20], context_tokens=5) == [AICall(1, 15), AICall(1, 25)]
    assert calls_of_batch(1, []) == [] and calls_of_batch(3, [10, 20]) == [] and calls_of_batch(7, [1]) == []


def test_a_text_call_s_bound_by_hand() -> None:
    article = stage(4)
    sent = 1000 + article.instruction_tokens
    # The first request, then a re-ask sending it all again with the answer and a complaint.
    tokens = (sent + article.max_output_tokens) + (sent + article.max_output_tokens + REASK_TOKENS
                                                    + article.max_output_tokens)
    assert ATTEMPTS_PER_CALL == 2
    assert call_credit_bound(4, AICall(1, 1000)) == credits_for_text_call(tokens)


def test_an_image_costs_its_images_whatever_its_prompt() -> None:
    assert batch_credit_bound(6, calls_of_batch(6, [10, 10_000, 0])) == 9


def test_stages_without_ai_calls_cost_nothing() -> None:
    assert batch_credit_bound(3, calls_of_batch(3, [500] * 50)) == 0
    assert batch_credit_bound(7, calls_of_batch(7, [500] * 50)) == 0


def test_no_call_asks_for_more_output_than_models_write() -> None:
    assert stage(1).output_token_cap(10_000) == OUTPUT_TOKEN_CEILING
    assert stage(1).output_token_cap(3) == stage(1).max_output_tokens + 3 * stage(1).max_output_tokens_per_item


def test_input_is_bounded_by_its_utf8_bytes() -> None:
    assert input_token_bound("espresso") == 8
    assert input_token_bound("𝔼" * 200) == 800  # four bytes a character


@given(number=st.sampled_from(TEXT_STAGES), items=st.integers(1, 500), input_tokens=st.integers(0, 200_000),
       data=st.data())
def test_no_call_within_the_limits_is_charged_more_than_its_bound(number: int, items: int, input_tokens: int,
                                                                   data: st.DataObject) -> None:
    call = AICall(items if stage(number).per_batch else 1, input_tokens)
    cap, sent = stage(number).output_token_cap(call.items), input_tokens + stage(number).instruction_tokens
    attempts = data.draw(st.integers(1, ATTEMPTS_PER_CALL))
    answers = [data.draw(st.integers(0, cap)) for _ in range(attempts)]
    complaints = [data.draw(st.integers(0, REASK_TOKENS)) for _ in range(attempts)]
    tokens, conversation = 0, sent
    for answer, complaint in zip(answers, complaints):
        tokens += conversation + answer
        conversation += answer + complaint
    assert credits_for_text_call(tokens) <= call_credit_bound(number, call)


@given(number=st.sampled_from([s.number for s in STAGES]), sizes=st.lists(st.integers(0, 5000), max_size=40))
def test_a_batch_s_bound_is_its_calls_bounds_and_never_below_the_flat_estimate(number: int, sizes: list[int]) -> None:
    calls = calls_of_batch(number, sizes)
    bound = batch_credit_bound(number, calls)
    assert bound == sum(call_credit_bound(number, call) for call in calls)
    assert bound >= batch_cost_estimate(number, len(sizes))


def test_bad_token_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        calls_of_batch(2, [-1])
    with pytest.raises(ValueError):
        calls_of_batch(1, [1], context_tokens=-5)


def test_every_stage_that_calls_the_ai_declares_the_limits_of_its_calls() -> None:
    from services.pipeline.application.stage_work import STAGE_WORK

    for entry in STAGE_WORK.values():
        assert (entry.ai_method is None) == (not entry.stage.makes_ai_calls), entry.stage.name
