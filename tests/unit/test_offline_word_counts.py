"""Word counts the offline writer keeps as it writes (word_tally.py) equal the counts of the
text it wrote, so the length rule and the token usage (hence credits) are what a reread gives."""

from __future__ import annotations

import asyncio
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.pipeline.adapters.ai.article_writer import write_article
from services.pipeline.adapters.ai.offline import OfflineAI
from services.pipeline.adapters.ai.prose import word_count
from services.pipeline.adapters.ai.sentence_bank import CHECKLIST, SECTION_SENTENCES
from services.pipeline.adapters.ai.token_estimate import estimate_tokens, tokens_for_words
from services.pipeline.adapters.ai.word_tally import SlotTemplate, Tally, fill, tally
from services.pipeline.application.ai_port import ArticleBrief

pytestmark = pytest.mark.unit

TEMPLATES = [SlotTemplate(t) for t in SECTION_SENTENCES + CHECKLIST]
# Letters, digits, apostrophes, punctuation and whitespace of several kinds: the characters
# on which the two counting conventions disagree.
keyword_text = st.text(alphabet=st.sampled_from("ab1 '’-,.;!é\n\t\u2003ß"), max_size=14)


@settings(max_examples=300, deadline=None)
@given(keyword=keyword_text, picks=st.lists(st.integers(0, len(TEMPLATES) - 1), min_size=1, max_size=8))
def test_filled_templates_count_as_their_text_does(keyword, picks):
    chosen = [TEMPLATES[n] for n in picks]
    texts, counted = fill(chosen, keyword)
    assert texts == [t.text.format(kw=keyword) for t in chosen]
    assert counted == tally(" ".join(texts))


def test_a_tally_holds_both_conventions():
    assert tally("## Moka Pot\n\n- Don't rush.") == Tally(prose=4, spaced=6)
    assert Tally(4, 6).plus(Tally(1, 1)) == Tally(5, 7) and Tally(4, 6).least() == 4


@settings(max_examples=60, deadline=None)
@given(title=st.text(max_size=40), keywords=st.lists(keyword_text, max_size=6))
def test_the_article_reports_the_words_of_its_body(title, keywords):
    written = write_article(ArticleBrief("t", title, "", tuple(keywords)))
    body = written.article.body
    assert written.words == len(body.split())
    assert min(word_count(body), written.words) >= 300


def test_article_usage_is_the_estimate_of_its_body():
    brief = ArticleBrief("t1", "Cold Brew: A Guide", "How to steep it.", ("cold brew", "cold brew ratio"))
    result = asyncio.run(OfflineAI().write_article(brief))
    assert result.usage.completion_tokens == estimate_tokens(result.value.body)
    assert result.usage.prompt_tokens == estimate_tokens(
        "Write a markdown article of at least 300 words with headings for this brief.",
        " ".join((brief.title, brief.description, *brief.keywords)),
    )


@pytest.mark.parametrize("words", [0, 1, 2, 3, 4, 299, 300, 301, 1000, 12_345])
def test_tokens_for_words_is_four_thirds_rounded_up(words):
    assert tokens_for_words(words) == math.ceil(words * 4 / 3)
