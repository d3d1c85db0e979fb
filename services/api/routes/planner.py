"""Planner and writer data (CONTRACT §3.2): keyword import and the six listings."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.api.deps import CallerDep, PoolDep
from services.api.errors import invalid
from services.api.queries import planner as q
from services.api.queries.tenancy import require_site

router = APIRouter(prefix="/api/v1/sites", tags=["planner"])
MAX_KEYWORD_LENGTH = 200


class KeywordIn(BaseModel):
    keyword: str
    volume: int | None = Field(default=None, ge=0, le=10**9)
    difficulty: int | None = Field(default=None, ge=0, le=100)
    intent: str | None = Field(default=None, max_length=50)


class KeywordImport(BaseModel):
    keywords: list[KeywordIn] = Field(min_length=1, max_length=10_000)


def normalise(keyword: str) -> str:
    return " ".join(keyword.split()).casefold()


@router.post("/{site_id}/keywords", status_code=201)
async def import_keywords(site_id: str, body: KeywordImport, caller: CallerDep, pool: PoolDep) -> dict[str, int]:
    """Add keywords; ones already on the site (ignoring case and spacing) count as duplicates."""
    await require_site(pool, site_id, caller.account_id)
    rows, seen = [], set()
    for index, item in enumerate(body.keywords):
        text = " ".join(item.keyword.split())
        if not text or len(text) > MAX_KEYWORD_LENGTH:
            raise invalid(f"keyword {index} is empty or longer than {MAX_KEYWORD_LENGTH} characters", index=index)
        norm = normalise(text)
        if norm not in seen:
            seen.add(norm)
            rows.append((str(uuid.uuid4()), site_id, text, norm, item.volume, item.difficulty, item.intent))
    created = await q.insert_keywords(pool, rows)
    return {"created": created, "duplicates": len(body.keywords) - created}


@router.get("/{site_id}/{kind}")
async def list_items(
    site_id: str,
    kind: Literal["keywords", "clusters", "ideas", "tasks", "content", "images"],
    caller: CallerDep,
    pool: PoolDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    await require_site(pool, site_id, caller.account_id)
    items, total = await q.list_items(pool, kind, site_id, limit, offset)
    return {"items": items, "total": total}
