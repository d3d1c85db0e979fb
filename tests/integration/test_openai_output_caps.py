"""Every chat request tells the provider its stage's output cap, so the bound the worker checks
before a batch is real: over real HTTP, against the local fake OpenAI server."""

import pytest

from services.pipeline.adapters.ai.openai_provider import OpenAIProvider
from services.pipeline.application.ai_port import ArticleBrief, ArticleInput, ClusterInput, KeywordInput
from services.pipeline.application.batch_bound import batch_bound
from shared.credits import credits_for_text_call
from shared.stages import stage
from tests.integration.test_openai_provider import settings_for
from tests.support.fake_openai import MALFORMED, OK, FakeOpenAI

pytestmark = pytest.mark.integration


class NoClusters:
    def existing_clusters(self, site_id: str) -> list:
        return []


@pytest.fixture(scope="module")
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def provider(fake):
    fake.reset()
    ai = OpenAIProvider(settings_for(fake))
    yield ai
    await ai.aclose()


async def test_a_clustering_request_s_cap_grows_with_its_keywords(fake, provider):
    for count in (2, 40):
        fake.reset()
        await provider.cluster_keywords([KeywordInput(f"k{n}", f"moka pot {n}") for n in range(count)], [])
        (request,) = fake.requests
        assert request.body["max_completion_tokens"] == stage(1).output_token_cap(count)
    assert stage(1).output_token_cap(40) > stage(1).output_token_cap(2)


async def test_each_text_request_carries_its_stage_s_cap(fake, provider):
    await provider.generate_ideas(ClusterInput("c1", "Moka Pot", "", ("moka pot",)))
    await provider.write_article(ArticleBrief("t1", "Moka", "", ("moka pot",)))
    await provider.image_prompts(ArticleInput("c1", "Moka", "# Moka\n\n## Brew\n\nText.\n\n## Clean\n\nText."))
    assert [r.body["max_completion_tokens"] for r in fake.requests] == [
        stage(2).max_output_tokens, stage(4).max_output_tokens, stage(5).max_output_tokens,
    ]


async def test_a_re_asked_call_stays_within_its_bound(fake, provider):
    fake.script(MALFORMED, OK)
    task = {"id": "t1", "title": "Moka Pot Basics", "description": "A primer.", "keywords": ["moka pot"]}
    result = await provider.write_article(ArticleBrief("t1", task["title"], task["description"], ("moka pot",)))
    assert len(fake.requests) == 2
    assert all(r.body["max_completion_tokens"] == stage(4).max_output_tokens for r in fake.requests)
    assert credits_for_text_call(result.usage.total_tokens) <= batch_bound(NoClusters(), "s", 4, [task])
