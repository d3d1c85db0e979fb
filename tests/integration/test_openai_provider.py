"""The real ``openai`` client, over real HTTP, against the local fake OpenAI server."""

import asyncio
import json

import pytest

from services.pipeline.adapters.ai.openai_provider import OpenAIProvider
from services.pipeline.application.ai_port import (
    AIError,
    ArticleBrief,
    ArticleInput,
    ClusterInput,
    ExistingCluster,
    KeywordInput,
    RateLimited,
)
from shared.infra.settings import Settings
from tests.support.fake_openai import MALFORMED, OK, Delay, FakeOpenAI, ImageUrl, Reply, Status

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(autouse=True)
def clean(fake):
    fake.reset()
    yield
    fake.reset()


def settings_for(fake: FakeOpenAI, **overrides) -> Settings:
    values = {
        "ai_provider": "openai",
        "openai_api_key": "sk-test",
        "openai_base_url": fake.base_url,
        "openai_model": "gpt-test",
        "openai_image_model": "dall-e-3",
        "openai_timeout_seconds": 5.0,
        "openai_max_retries": 2,
    }
    return Settings(**{**values, **overrides})


@pytest.fixture
async def provider(fake):
    ai = OpenAIProvider(settings_for(fake))
    yield ai
    await ai.aclose()


def expected_usage(fake: FakeOpenAI, *indexes: int) -> tuple[int, int]:
    usages = [fake.requests[i].usage for i in indexes]
    return sum(u["prompt_tokens"] for u in usages), sum(u["completion_tokens"] for u in usages)


async def test_cluster_keywords_sends_a_strict_schema_and_maps_the_answer(fake, provider):
    keywords = [
        KeywordInput("k1", "moka pot", 1000, "informational"),
        KeywordInput("k2", "moka pot ratio"),
        KeywordInput("k3", "cold brew maker"),
    ]
    existing = [ExistingCluster("c-cold", "cold brew", ("cold brew", "cold brew ratio"))]
    result = await provider.cluster_keywords(keywords, existing)
    assert result.value.assigned == {"k3": "c-cold"}
    assert [(c.name, c.keyword_ids) for c in result.value.new_clusters] == [("Moka", ("k1", "k2"))]
    (request,) = fake.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.body["model"] == "gpt-test"
    schema = request.body["response_format"]
    assert schema["type"] == "json_schema" and schema["json_schema"]["strict"] is True
    assert request.schema_name == "keyword_clusters"
    sent = json.loads(request.body["messages"][-1]["content"])
    assert [k["id"] for k in sent["keywords"]] == ["k1", "k2", "k3"]
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == expected_usage(fake, 0)
    assert result.usage.prompt_tokens > 0 and result.usage.images == 0


async def test_keywords_the_model_forgets_still_get_a_cluster(fake, provider):
    forgetful = {
        "clusters": [{"name": "Moka", "description": "", "keyword_ids": ["k1", "nope"]}],
        "assignments": [{"keyword_id": "k2", "cluster_id": "unknown"}],
    }
    fake.script(Reply(json.dumps(forgetful)))
    keywords = [KeywordInput("k1", "moka pot"), KeywordInput("k2", "knock box")]
    result = await provider.cluster_keywords(keywords, [])
    assert [c.keyword_ids for c in result.value.new_clusters] == [("k1",), ("k2",)]
    assert result.value.assigned == {}


async def test_generate_ideas(fake, provider):
    keywords = ("moka pot", "best moka pot", "moka pot ratio", "moka pot grind")
    result = await provider.generate_ideas(ClusterInput("c1", "Moka Pot", "Stovetop.", keywords))
    assert [i.title for i in result.value] == [
        "The Complete Guide to Moka Pot",
        "Moka Pot: 7 Mistakes to Avoid",
    ]
    assert fake.requests[0].schema_name == "article_ideas"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == expected_usage(fake, 0)


async def test_write_article(fake, provider):
    brief = ArticleBrief("t1", "Moka Pot Basics", "A primer.", ("moka pot", "moka pot ratio"))
    result = await provider.write_article(brief)
    assert result.value.title == "Moka Pot Basics"
    assert result.value.body.startswith("# Moka Pot Basics")
    assert "## Conclusion" in result.value.body
    assert fake.requests[0].schema_name == "article"
    assert result.usage.completion_tokens == fake.requests[0].usage["completion_tokens"] > 300


async def test_image_prompts(fake, provider):
    body = "# Moka\n\nIntro.\n\n## Brewing\n\nText.\n\n## Cleaning\n\nText."
    result = await provider.image_prompts(ArticleInput("c1", "Moka", body))
    assert [(p.kind, p.prompt) for p in result.value] == [
        ("featured", "A bright photograph for Moka"),
        ("in_article", "A photograph illustrating Brewing"),
        ("in_article", "A photograph illustrating Cleaning"),
    ]
    assert fake.requests[0].schema_name == "image_prompts"


async def test_generate_image_returns_png_bytes(fake, provider):
    result = await provider.generate_image("a moka pot on a stove")
    assert result.value.png is not None and result.value.png.startswith(b"\x89PNG\r\n\x1a\n")
    (request,) = fake.requests
    assert request.path == "/v1/images/generations"
    assert request.body == {
        "model": "dall-e-3",
        "prompt": "a moka pot on a stove",
        "n": 1,
        "response_format": "b64_json",
    }
    assert result.usage.images == 1 and result.usage.prompt_tokens > 0


async def test_generate_image_passes_a_hosted_url_through(fake, provider):
    fake.script(ImageUrl("https://images.example/1.png"))
    result = await provider.generate_image("a kettle")
    assert result.value.url == "https://images.example/1.png" and result.value.png is None


@pytest.mark.parametrize("retry_after_ms, retry_after", [(250, 0.25), (None, None)])
async def test_a_rate_limit_is_not_retried_by_the_client_but_raised_with_its_retry_after(
    fake, provider, retry_after_ms, retry_after
):
    # The shared rate limiter retries it, after slowing every process (tests/integration/test_rate_limited_ai.py).
    fake.script(Status(429, retry_after_ms=retry_after_ms))
    with pytest.raises(RateLimited) as caught:
        await provider.generate_ideas(ClusterInput("c1", "Moka Pot", "", ("moka pot",)))
    assert len(fake.requests) == 1
    assert caught.value.retry_after == retry_after
    assert "provider_rate_limited" in str(caught.value)


async def test_an_image_rate_limit_is_raised_too(fake, provider):
    fake.script(Status(429))
    with pytest.raises(RateLimited):
        await provider.generate_image("a kettle")
    assert len(fake.requests) == 1


async def test_malformed_json_is_re_asked_once_then_accepted(fake, provider):
    fake.script(MALFORMED, OK)
    result = await provider.generate_ideas(ClusterInput("c1", "Moka Pot", "", ("moka pot",)))
    assert len(fake.requests) == 2
    reask = fake.requests[1].body["messages"]
    assert reask[-2] == {"role": "assistant", "content": MALFORMED.content}
    assert "could not be used" in reask[-1]["content"]
    usage = result.usage
    assert (usage.prompt_tokens, usage.completion_tokens) == expected_usage(fake, 0, 1)


async def test_malformed_json_twice_raises_ai_error(fake, provider):
    fake.script(MALFORMED, MALFORMED)
    with pytest.raises(AIError, match="unusable article_ideas answer twice.*Invalid JSON"):
        await provider.generate_ideas(ClusterInput("c1", "Moka Pot", "", ("moka pot",)))
    assert len(fake.requests) == 2


async def test_too_short_article_is_re_asked(fake, provider):
    fake.script(Reply(json.dumps({"title": "Short", "body": "# Short\n\nToo short."})), OK)
    result = await provider.write_article(ArticleBrief("t1", "Moka", "", ("moka pot",)))
    assert len(fake.requests) == 2
    assert "fewer than 300" in fake.requests[1].body["messages"][-1]["content"]
    assert len(result.value.body.split()) >= 300


async def test_timeout_after_retries_raises_ai_error(fake):
    ai = OpenAIProvider(settings_for(fake, openai_timeout_seconds=0.3, openai_max_retries=1))
    fake.script(Delay(30), Delay(30))
    try:
        # A deadline far below the answers' 30 s: only the client's own timeouts can meet it.
        async with asyncio.timeout(10):
            with pytest.raises(AIError, match="timed out"):
                await ai.write_article(ArticleBrief("t1", "Moka", "", ("moka pot",)))
    finally:
        await ai.aclose()
    assert len(fake.requests) == 2


async def test_cancelling_aborts_an_in_flight_request_promptly(fake, provider):
    fake.script(Delay(30))
    task = asyncio.create_task(provider.write_article(ArticleBrief("t1", "Moka", "", ())))
    async with asyncio.timeout(5):
        while not fake.requests:
            await asyncio.sleep(0.01)
    task.cancel()
    # Far below the answer's 30 s: the request was abandoned. (The deadline goes inside, so
    # that its own cancellation surfaces as TimeoutError, not as the expected CancelledError.)
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(5):
            await task


async def test_server_errors_exhausting_retries_raise_ai_error(fake, provider):
    fake.script(Status(500), Status(500), Status(500))
    with pytest.raises(AIError, match="HTTP 500"):
        await provider.image_prompts(ArticleInput("c1", "Moka", "# Moka"))
    assert len(fake.requests) == 3  # the first try and max_retries=2 retries


async def test_image_errors_raise_ai_error(fake, provider):
    fake.script(Status(400, retry_after_ms=None))
    with pytest.raises(AIError, match="image generation failed: provider_bad_request: HTTP 400"):
        await provider.generate_image("anything")
    assert len(fake.requests) == 1  # a 400 is not retried


async def test_no_api_key_is_a_clear_error(fake, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(AIError, match="cannot set up the OpenAI client"):
        OpenAIProvider(settings_for(fake, openai_api_key=None))



async def test_a_provider_error_reaches_us_as_a_code_never_as_the_providers_text(fake, provider):
    # OpenAI's 401 quotes part of the key; that text must not travel into events, logs or answers.
    leak = "Incorrect API key provided: sk-proj-SECRETSECRET1234. You can find your key at ..."
    fake.script(Status(401, retry_after_ms=None, message=leak))
    with pytest.raises(AIError) as caught:
        await provider.generate_ideas(ClusterInput("c1", "moka", "pots", ("moka pot",)))
    assert "provider_auth_failed" in str(caught.value)
    assert "SECRET" not in str(caught.value) and "Incorrect" not in str(caught.value)
