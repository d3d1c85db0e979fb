"""What the API answers (CONTRACT §3), as pydantic models: the OpenAPI document's response
schemas, and a check that every answer keeps to them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model


# --- errors ------------------------------------------------------------------------------

class ErrorDetail(BaseModel):
    code: str = Field(examples=["invalid_request"], description="snake_case error code")
    message: str
    details: dict[str, Any]


class ErrorBody(BaseModel):
    error: ErrorDetail


_ERROR_TEXT = {
    400: "Missing or invalid parameter (`invalid_request`), or a refused transition",
    401: "Missing or unknown bearer token",
    403: "The token's role may not do this",
    404: "Unknown id, or an id of another account",
    429: "`rate_limited`: over API_RATE_LIMIT_PER_MINUTE such requests of the account in the last minute",
    500: "Unexpected error (no stack trace in the body)",
    503: "A dependency did not answer in time",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entries declaring these error statuses with the contract's error body."""
    return {status: {"model": ErrorBody, "description": _ERROR_TEXT[status]} for status in statuses}


def rate_limited() -> dict[int | str, dict[str, Any]]:
    """The 429 of the rate-limited routes, with its `Retry-After` header."""
    retry_after = {"description": "Seconds until a request of the account leaves the window",
                   "schema": {"type": "integer", "minimum": 1}}
    return {429: {**errors(429)[429], "headers": {"Retry-After": retry_after}}}


# --- health ------------------------------------------------------------------------------

class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "degraded", "unavailable"]
    checks: dict[str, bool]
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="`dead_letters`: how many commands and events were set aside (`automation dead-letters` "
                    "lists them); `relay_alarm`: the event Kafka refuses, while it does, else null.",
    )


# --- admin (§3.1) ------------------------------------------------------------------------

class Account(BaseModel):
    id: str
    name: str
    credits: int
    max_ai_concurrency: int = Field(default=16, description="AI calls in flight shared by all its running runs")


class Balance(BaseModel):
    account_id: str
    credits: int = Field(description="The new balance")


class Site(BaseModel):
    id: str
    account_id: str
    name: str
    domain: str


class IssuedToken(BaseModel):
    token: str = Field(description="Shown once; only its hash is stored")


# --- planner and writer data (§3.2) ------------------------------------------------------

class ImportResult(BaseModel):
    created: int
    duplicates: int


class KeywordItem(BaseModel):
    id: str
    keyword: str
    volume: int | None
    difficulty: int | None
    intent: str | None
    cluster_id: str | None
    status: str


class ClusterItem(BaseModel):
    id: str
    name: str
    description: str
    keyword_ids: list[str]


class IdeaItem(BaseModel):
    id: str
    cluster_id: str
    title: str
    description: str
    status: str


class TaskItem(BaseModel):
    id: str
    idea_id: str
    title: str
    status: str


class ContentItem(BaseModel):
    id: str
    task_id: str
    title: str
    body: str
    word_count: int
    status: Literal["draft", "review"]


class ImageItem(BaseModel):
    id: str
    content_id: str
    kind: Literal["featured", "in_article"]
    prompt: str
    status: Literal["pending", "generated", "failed"]
    url: str | None


def _page(item: type[BaseModel]) -> type[BaseModel]:
    return create_model(item.__name__.removesuffix("Item") + "Page", items=(list[item], ...), total=(int, ...))


KeywordPage, ClusterPage, IdeaPage, TaskPage, ContentPage, ImagePage = (
    _page(m) for m in (KeywordItem, ClusterItem, IdeaItem, TaskItem, ContentItem, ImageItem)
)
PAGES: dict[str, type[BaseModel]] = {
    "keywords": KeywordPage, "clusters": ClusterPage, "ideas": IdeaPage,
    "tasks": TaskPage, "content": ContentPage, "images": ImagePage,
}
