"""The AsyncAPI document of the Kafka messages, for the modules that consume the events."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter

from shared.events.asyncapi import build_document

router = APIRouter(tags=["messages"])


@lru_cache
def _document() -> dict[str, Any]:
    return build_document()


# Left out of the OpenAPI document: it is a specification of its own, not an API answer.
@router.get("/asyncapi.json", include_in_schema=False)
async def asyncapi() -> dict[str, Any]:
    return _document()
