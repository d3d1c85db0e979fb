"""The live stream of a site's runs (CONTRACT §7): Server-Sent Events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from services.api.entrypoints.deps import CallerDep, HubDep, PoolDep
from services.api.entrypoints.live_stream import site_events
from services.api.entrypoints.params import SiteIdQuery
from services.api.adapters.queries.tenancy import require_site
from services.api.entrypoints.schemas import errors


def _json_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers, which are JSON even though the success answer is an event stream
    (FastAPI would otherwise document them under the route's media type)."""
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    return {status: {"description": entry["description"], "content": body}
            for status, entry in errors(*statuses).items()}


router = APIRouter(prefix="/api/v1/automation", tags=["runs"], responses=_json_errors(400, 401, 404, 500))

LastEventId = Annotated[str | None, Header(
    alias="Last-Event-ID", pattern=r"^[0-9]{1,18}$",
    description="The `id` of the last event received: the stream goes on from there, missing nothing",
)]


class EventStreamResponse(StreamingResponse):
    media_type = "text/event-stream"


_STREAM_DOC = {
    200: {
        "description": (
            "`text/event-stream`, open until the client leaves. Events:\n\n"
            "- `run`: the run as `GET /runs/{run_id}` shows it, plus `processing` (as in "
            "`current_processing`): status, stage, per-stage counters, credits;\n"
            "- `log`: `{\"run_id\", \"sequence\", \"line\"}`, a new line of the run's log.\n\n"
            "Every event has an `id`; send the last one as `Last-Event-ID` when reconnecting "
            "and nothing is missed. Without it, the stream starts with the site's latest run and "
            "its recent lines. A comment line is sent every 15 s of silence."
        ),
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
}


@router.get("/stream", response_class=EventStreamResponse, responses=_STREAM_DOC)
async def stream(site_id: SiteIdQuery, caller: CallerDep, pool: PoolDep, hub: HubDep,
                 last_event_id: LastEventId = None) -> EventStreamResponse:
    """Server-Sent Events of the site's runs, pushed as the projector commits them."""
    await require_site(pool, site_id, caller.account_id)
    events = site_events(pool, hub, site_id, int(last_event_id) if last_event_id is not None else None)
    # No proxy buffering or caching: each event must reach the browser when it is sent.
    return EventStreamResponse(events, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
