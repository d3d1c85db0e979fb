"""Liveness and readiness (CONTRACT §3)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.api.entrypoints.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "PostgreSQL or Kafka does not answer"}})
async def readyz(request: Request) -> JSONResponse:
    """200 when PostgreSQL and Kafka both answer, else 503 (embedded, without Kafka: PostgreSQL alone)."""
    checks = {"postgres": False}
    try:
        checks["postgres"] = await asyncio.wait_for(request.app.state.pool.fetchval("SELECT true"), 2)
    except Exception:
        pass
    broker = request.app.state.broker
    if broker is not None:
        try:
            checks["kafka"] = bool(await asyncio.wait_for(broker.ping(timeout=2), 3))
        except Exception:
            checks["kafka"] = False
    ready = all(checks.values())
    body = Readiness(status="ready" if ready else "unavailable", checks=checks)
    return JSONResponse(status_code=200 if ready else 503, content=body.model_dump())
