"""Liveness and readiness (CONTRACT §3)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.api.entrypoints.schemas import Health, Readiness
from shared.infra import dead_letters, relay_alarms

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "PostgreSQL or Kafka does not answer"}})
async def readyz(request: Request) -> JSONResponse:
    """200 when PostgreSQL and Kafka both answer, else 503 (embedded, without Kafka: PostgreSQL alone).

    A 200 says `"status": "degraded"` (and `checks.relay` false) while the outbox relay is
    raising its alarm: Kafka refuses an event, so events wait behind it. The details count
    the dead letters."""
    pool = request.app.state.pool
    checks = {"postgres": False}
    try:
        checks["postgres"] = await asyncio.wait_for(pool.fetchval("SELECT true"), 2)
    except Exception:
        pass
    broker = request.app.state.broker
    if broker is not None:
        try:
            checks["kafka"] = bool(await asyncio.wait_for(broker.ping(timeout=2), 3))
        except Exception:
            checks["kafka"] = False
    ready = all(checks.values())
    details = await _details(pool) if checks["postgres"] else {}
    if "relay_alarm" in details:
        checks["relay"] = details["relay_alarm"] is None
    status = "unavailable" if not ready else "ready" if checks.get("relay", True) else "degraded"
    body = Readiness(status=status, checks=checks, details=details)
    return JSONResponse(status_code=200 if ready else 503, content=body.model_dump())


async def _details(pool: Any) -> dict[str, Any]:
    try:
        return await asyncio.wait_for(_read_details(pool), 2)
    except Exception:  # details never decide readiness
        return {}


async def _read_details(pool: Any) -> dict[str, Any]:
    return {"dead_letters": await dead_letters.count(pool), "relay_alarm": await relay_alarms.active(pool)}
