"""Prometheus metrics of the API process (CONTRACT §7)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}})
async def metrics() -> Response:
    """This process's Prometheus metrics, in the text exposition format (no token: scrape it
    from the operator's network)."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
