"""The AI provider port: what the stages ask of an AI, whichever provider answers.

Adapters live in ``services/pipeline/adapters/ai/`` (``offline`` and ``openai``).
Every call returns its result together with the usage it incurred, so the
stage can turn usage into credits (see ``shared/credits.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")


class AIError(Exception):
    """An AI call failed for good (after the adapter's own retries)."""


class RateLimited(AIError):
    """The provider answered 429. Not retried by the adapter: the rate limiter in front of it
    slows every caller of the provider, then tries again (``adapters/ai/rate_limited.py``)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds, when the provider said


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    images: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class AIResult(Generic[T]):
    value: T
    usage: Usage


@dataclass(frozen=True)
class KeywordInput:
    id: str
    keyword: str
    volume: int | None = None
    intent: str | None = None


@dataclass(frozen=True)
class ExistingCluster:
    id: str
    name: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class NewCluster:
    name: str
    description: str
    keyword_ids: tuple[str, ...]


@dataclass(frozen=True)
class Clustering:
    """New clusters, plus keywords filed into clusters that already exist."""

    new_clusters: tuple[NewCluster, ...]
    assigned: dict[str, str] = field(default_factory=dict)  # keyword id -> existing cluster id


@dataclass(frozen=True)
class ClusterInput:
    id: str
    name: str
    description: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Idea:
    title: str
    description: str


@dataclass(frozen=True)
class ArticleBrief:
    task_id: str
    title: str
    description: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Article:
    title: str
    body: str  # markdown with headings, at least 300 words


@dataclass(frozen=True)
class ArticleInput:
    content_id: str
    title: str
    body: str


@dataclass(frozen=True)
class ImagePrompt:
    kind: str  # "featured" | "in_article"
    prompt: str


@dataclass(frozen=True)
class GeneratedImage:
    """Either ``png`` bytes (offline, or b64 answers) or a ``url`` the provider hosts."""

    png: bytes | None = None
    url: str | None = None


class AIProvider(Protocol):
    name: str

    async def cluster_keywords(
        self, keywords: list[KeywordInput], existing: list[ExistingCluster]
    ) -> AIResult[Clustering]: ...

    async def generate_ideas(self, cluster: ClusterInput) -> AIResult[list[Idea]]: ...

    async def write_article(self, brief: ArticleBrief) -> AIResult[Article]: ...

    async def image_prompts(self, article: ArticleInput) -> AIResult[list[ImagePrompt]]: ...

    async def generate_image(self, prompt: str) -> AIResult[GeneratedImage]: ...

    async def aclose(self) -> None: ...
