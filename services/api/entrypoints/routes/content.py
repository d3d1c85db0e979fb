"""One content item, for the publishing module (CONTRACT §7)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from services.api.entrypoints.content_schemas import ContentDetail
from services.api.entrypoints.deps import CallerDep, PoolDep
from services.api.application.errors import not_found
from services.api.entrypoints.params import MAX_ID_LENGTH, SOME_NO_NUL, SiteIdPath
from services.api.adapters.queries.content import content_item
from services.api.adapters.queries.tenancy import require_site
from services.api.entrypoints.schemas import errors

router = APIRouter(prefix="/api/v1/sites", tags=["planner"], responses=errors(400, 401, 404))
ContentIdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=SOME_NO_NUL,
                                    description="The content item's id")]


@router.get("/{site_id}/content/{content_id}", response_model=ContentDetail)
async def get_content(site_id: SiteIdPath, content_id: ContentIdPath, caller: CallerDep,
                      pool: PoolDep) -> dict[str, Any]:
    """One content item with its body, images, idea, cluster and keywords: the path that
    `ContentReadyForReview.data.content_url` gives. Another account's item is a 404."""
    await require_site(pool, site_id, caller.account_id)
    item = await content_item(pool, site_id, content_id)
    if item is None:
        raise not_found("content")
    return item
