"""Planner and writer data (CONTRACT §3.2): keyword import, the six listings, image files."""

from __future__ import annotations

import uuid
from typing import Any, Awaitable, Callable

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from services.api.entrypoints.deps import CallerDep, PoolDep
from services.api.entrypoints.json_types import json_int
from services.api.entrypoints.limits import LimitedCallerDep
from services.api.application.errors import invalid, not_found
from services.api.entrypoints.params import NO_NUL, ImageIdPath, ListingLimit, Offset, SiteIdPath
from services.api.adapters.queries import planner as q
from services.api.adapters.queries.tenancy import require_site
from services.api.entrypoints.schemas import PAGES, ImportResult, errors, rate_limited

router = APIRouter(prefix="/api/v1/sites", tags=["planner"], responses=errors(400, 401, 404))
MAX_KEYWORD_LENGTH = 200


class KeywordIn(BaseModel):
    # Checked again for emptiness and length after spacing is normalised (see import_keywords).
    keyword: str = Field(min_length=1, max_length=MAX_KEYWORD_LENGTH, pattern=NO_NUL,
                         description=f"1–{MAX_KEYWORD_LENGTH} characters, spacing normalised")
    volume: json_int(ge=0, le=10**9) | None = None  # type: ignore[valid-type]
    difficulty: json_int(ge=0, le=100) | None = None  # type: ignore[valid-type]
    intent: str | None = Field(default=None, max_length=50, pattern=NO_NUL)


class KeywordImport(BaseModel):
    keywords: list[KeywordIn] = Field(min_length=1, max_length=10_000)


def normalise(keyword: str) -> str:
    return " ".join(keyword.split()).casefold()


@router.post("/{site_id}/keywords", status_code=201, responses=rate_limited())
async def import_keywords(site_id: SiteIdPath, body: KeywordImport, caller: LimitedCallerDep, pool: PoolDep) -> ImportResult:
    """Add keywords; ones already on the site (ignoring case and spacing) count as duplicates.
    One empty or over-long keyword refuses the whole request, and nothing of it is stored."""
    await require_site(pool, site_id, caller.account_id)
    rows, seen = [], set()
    for index, item in enumerate(body.keywords):
        text = " ".join(item.keyword.split())
        if not text or len(text) > MAX_KEYWORD_LENGTH:
            raise invalid(f"keyword {index} is empty or longer than {MAX_KEYWORD_LENGTH} characters", index=index)
        if (norm := normalise(text)) not in seen:
            seen.add(norm)
            rows.append((str(uuid.uuid4()), site_id, text, norm, item.volume, item.difficulty, item.intent))
    created = await q.insert_keywords(pool, rows)
    return ImportResult(created=created, duplicates=len(body.keywords) - created)


def _listing(kind: str) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def list_items(site_id: SiteIdPath, caller: CallerDep, pool: PoolDep,
                         limit: ListingLimit = 50, offset: Offset = 0) -> dict[str, Any]:
        await require_site(pool, site_id, caller.account_id)
        items, total = await q.list_items(pool, kind, site_id, limit, offset)
        return {"items": items, "total": total}

    list_items.__name__ = f"list_{kind}"
    list_items.__doc__ = f"The site's {kind}, oldest first, with the total count."
    return list_items


for _kind, _page in PAGES.items():
    router.add_api_route(f"/{{site_id}}/{_kind}", _listing(_kind), methods=["GET"], response_model=_page,
                         name=f"list_{_kind}")


@router.get(
    "/{site_id}/images/{image_id}/file", response_class=Response,
    responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
                     "description": "The generated image"}},
)
async def image_file(site_id: SiteIdPath, image_id: ImageIdPath, caller: CallerDep, pool: PoolDep) -> Response:
    """A generated image's PNG; 404 while it has none (pending or failed)."""
    await require_site(pool, site_id, caller.account_id)
    png = await q.image_png(pool, site_id, image_id)
    if png is None:
        raise not_found("image")
    return Response(content=png, media_type="image/png")
