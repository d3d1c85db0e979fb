"""The answer of ``GET /api/v1/sites/{site_id}/content/{content_id}`` (CONTRACT §7)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from services.api.entrypoints.schemas import ContentItem


class ContentImage(BaseModel):
    id: str
    kind: Literal["featured", "in_article"]
    prompt: str
    status: Literal["pending", "generated", "failed"]
    url: str | None = Field(description="Where the image is: an API path (same token) or the provider's URL")


class IdeaRef(BaseModel):
    id: str
    title: str


class ClusterRef(BaseModel):
    id: str
    name: str


class ContentDetail(ContentItem):
    """A content item as in the listing, with its images and what it was written from."""

    images: list[ContentImage] = Field(description="The featured image first")
    idea: IdeaRef
    cluster: ClusterRef
    keywords: list[str] = Field(description="The keywords of its cluster")
