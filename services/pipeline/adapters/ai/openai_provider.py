"""The OpenAI (or OpenAI-compatible) provider: structured chat outputs and the images API.

408/409 and 5xx answers, timeouts and dropped connections are retried by the ``openai``
client itself, with exponential backoff that honours ``Retry-After``, up to
``openai_max_retries`` times. What still fails after that becomes an ``AIError``.
A rate limit (429) is not retried here: it becomes ``RateLimited`` with the provider's
Retry-After, so the shared rate limiter can slow every caller of the provider at once.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import time
from collections.abc import Callable
from typing import Any, TypeVar

import openai
from pydantic import BaseModel, ValidationError

from shared.infra.settings import Settings
from shared.stages import ATTEMPTS_PER_CALL, stage_named

from ...application.ai_port import (
    AIError,
    RateLimited,
    AIResult,
    Article,
    ArticleBrief,
    ArticleInput,
    ClusterInput,
    Clustering,
    ExistingCluster,
    GeneratedImage,
    Idea,
    ImagePrompt,
    KeywordInput,
    Usage,
)
from . import openai_prompts as prompts
from .openai_answers import (
    ArticleAnswer,
    ClusteringAnswer,
    IdeasAnswer,
    ImagePromptsAnswer,
    InvalidAnswer,
    response_format,
)
from .token_estimate import estimate_tokens

A = TypeVar("A", bound=BaseModel)
# Each call's answer is capped at its stage's limit (shared/stages.py), so a batch never costs
# more than the bound the worker checked before it.
_CLUSTERING = stage_named("keywords_to_clusters")
_IDEAS = stage_named("clusters_to_ideas")
_ARTICLE = stage_named("tasks_to_content")
_IMAGE_PROMPTS = stage_named("content_to_image_prompts")
# The re-ask's complaint stays within the REASK_TOKENS the bound allows for it.
_PROBLEM_CHARS = 120  # at most 480 bytes, with the re-ask's own words within REASK_TOKENS
T = TypeVar("T")


class _ClientLeavingRateLimitsToUs(openai.AsyncOpenAI):
    """The client's own retries for everything but 429, which must slow every process."""

    def _should_retry(self, response: Any) -> bool:
        return response.status_code != 429 and super()._should_retry(response)


class OpenAIProvider:
    name = "openai"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        try:
            self._client = _ClientLeavingRateLimitsToUs(
                api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
                base_url=settings.openai_base_url,
                timeout=settings.openai_timeout_seconds,
                max_retries=settings.openai_max_retries,
            )
        except openai.OpenAIError as err:  # e.g. no OPENAI_API_KEY anywhere
            raise AIError(f"cannot set up the OpenAI client: {err}") from err

    async def cluster_keywords(
        self, keywords: list[KeywordInput], existing: list[ExistingCluster]
    ) -> AIResult[Clustering]:
        existing_ids = {c.id for c in existing}
        return await self._structured(
            "keyword_clusters",
            _CLUSTERING.output_token_cap(len(keywords)),
            prompts.cluster_messages(keywords, existing),
            ClusteringAnswer,
            lambda answer: answer.to_clustering(keywords, existing_ids),
        )

    async def generate_ideas(self, cluster: ClusterInput) -> AIResult[list[Idea]]:
        return await self._structured(
            "article_ideas", _IDEAS.output_token_cap(1), prompts.ideas_messages(cluster), IdeasAnswer,
            IdeasAnswer.to_ideas,
        )

    async def write_article(self, brief: ArticleBrief) -> AIResult[Article]:
        return await self._structured(
            "article",
            _ARTICLE.output_token_cap(1),
            prompts.article_messages(brief),
            ArticleAnswer,
            lambda answer: answer.to_article(brief),
        )

    async def image_prompts(self, article: ArticleInput) -> AIResult[list[ImagePrompt]]:
        return await self._structured(
            "image_prompts",
            _IMAGE_PROMPTS.output_token_cap(1),
            prompts.image_prompt_messages(article),
            ImagePromptsAnswer,
            ImagePromptsAnswer.to_prompts,
        )

    async def generate_image(self, prompt: str) -> AIResult[GeneratedImage]:
        model = self._settings.openai_image_model
        # GPT Image models always answer in base64 and reject the parameter.
        extra: dict[str, Any] = {"response_format": "b64_json"}
        if model.startswith("gpt-image"):
            extra = {}
        try:
            response = await self._client.images.generate(model=model, prompt=prompt, n=1, **extra)
        except openai.RateLimitError as err:
            raise _rate_limited("image generation", err) from err
        except openai.OpenAIError as err:
            raise AIError(f"OpenAI image generation failed: {_describe(err)}") from err
        if not response.data:
            raise AIError("OpenAI image generation returned no image")
        first = response.data[0]
        if first.b64_json:
            try:
                image = GeneratedImage(png=base64.b64decode(first.b64_json, validate=True))
            except (binascii.Error, ValueError) as err:
                raise AIError("OpenAI image generation returned invalid base64") from err
        elif first.url:
            image = GeneratedImage(url=first.url)
        else:
            raise AIError("OpenAI image generation returned neither b64_json nor url")
        tokens = response.usage
        usage = Usage(
            prompt_tokens=tokens.input_tokens if tokens else estimate_tokens(prompt),
            completion_tokens=tokens.output_tokens if tokens else 0,
            images=len(response.data),
        )
        return AIResult(image, usage)

    async def aclose(self) -> None:
        await self._client.close()

    async def _structured(
        self, name: str, max_tokens: int, messages: prompts.Messages, answer_type: type[A],
        convert: Callable[[A], T],
    ) -> AIResult[T]:
        """One structured call, re-asked once if the answer does not parse or make sense.
        Each request's answer is capped at ``max_tokens``: the stage's bound counts on it."""
        usage = Usage()
        problem = ""
        for _ in range(ATTEMPTS_PER_CALL):
            content, call_usage = await self._chat(name, max_tokens, messages, answer_type)
            usage = _add(usage, call_usage)
            try:
                return AIResult(convert(answer_type.model_validate_json(content)), usage)
            except (ValidationError, InvalidAnswer) as err:
                problem = _problem(err)[:_PROBLEM_CHARS]
                messages = prompts.reask_messages(messages, content, problem)
        raise AIError(f"OpenAI returned an unusable {name} answer twice; last problem: {problem}")

    async def _chat(
        self, name: str, max_tokens: int, messages: prompts.Messages, answer_type: type[BaseModel]
    ) -> tuple[str, Usage]:
        try:
            completion = await self._client.chat.completions.create(
                model=self._settings.openai_model,
                messages=messages,  # type: ignore[arg-type]
                max_completion_tokens=max_tokens,
                response_format=response_format(name, answer_type),  # type: ignore[arg-type]
            )
        except openai.RateLimitError as err:
            raise _rate_limited(name, err) from err
        except openai.OpenAIError as err:
            raise AIError(f"OpenAI {name} call failed: {_describe(err)}") from err
        if not completion.choices:
            raise AIError(f"OpenAI {name} call returned no choices")
        message = completion.choices[0].message
        if message.refusal:
            raise AIError(f"provider_refused: the model refused the {name} request")
        content = message.content or ""
        tokens = completion.usage
        if tokens is None:  # some compatible servers omit usage; estimate rather than bill zero
            sent = estimate_tokens(*(str(m["content"]) for m in messages))
            return content, Usage(sent, estimate_tokens(content))
        return content, Usage(tokens.prompt_tokens, tokens.completion_tokens)


def _add(a: Usage, b: Usage) -> Usage:
    return Usage(
        prompt_tokens=a.prompt_tokens + b.prompt_tokens,
        completion_tokens=a.completion_tokens + b.completion_tokens,
        images=a.images + b.images,
    )


def _problem(err: Exception) -> str:
    if isinstance(err, ValidationError):
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the answer"
        return f"invalid JSON for the schema at {where}: {first['msg']}"
    return str(err)


# A provider's own error text can quote the request, the account or part of the API key
# (a 401 does), and it reaches events, logs and the API: only a stable code and our own
# words about it leave this module.
_STATUS_WORDS = {
    400: ("provider_bad_request", "the provider refused the request as malformed"),
    401: ("provider_auth_failed", "the provider refused the API key"),
    403: ("provider_forbidden", "the provider does not allow this request for the key"),
    404: ("provider_not_found", "the provider does not know the model or endpoint"),
    408: ("provider_timeout", "the provider timed out"),
    409: ("provider_conflict", "the provider reported a conflict"),
    413: ("provider_too_large", "the request was too large for the provider"),
    422: ("provider_bad_request", "the provider could not process the request"),
    429: ("provider_rate_limited", "the provider's rate limit or quota was exceeded"),
}


def _rate_limited(call: str, err: openai.RateLimitError) -> RateLimited:
    return RateLimited(f"OpenAI {call} call failed: {_describe(err)}", _retry_after(err.response.headers))


def _retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms``, or ``retry-after`` as seconds or an HTTP date."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return max(0.0, float(headers[name]) * scale)
        except (KeyError, TypeError, ValueError):
            pass
    parsed = email.utils.parsedate_tz(headers.get("retry-after") or "")
    return max(0.0, email.utils.mktime_tz(parsed) - time.time()) if parsed else None


def _describe(err: openai.OpenAIError) -> str:
    if isinstance(err, openai.APITimeoutError):
        return "provider_timeout: the request timed out (after the client's retries)"
    if isinstance(err, openai.APIConnectionError):
        return "provider_unreachable: could not reach the provider (after the client's retries)"
    if isinstance(err, openai.APIStatusError):
        status = err.status_code
        code, words = _STATUS_WORDS.get(status, ("provider_error", "the provider failed to answer"))
        if status >= 500:
            code, words = "provider_server_error", "the provider had an internal error"
        return f"{code}: HTTP {status}: {words}"
    return f"provider_error: {type(err).__name__}"
