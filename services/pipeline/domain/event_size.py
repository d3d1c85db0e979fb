"""How big an event may get, and cutting tenant-sized text down to fit.

One event that Kafka refuses stops the relay for every tenant behind it, so no event may
outgrow a fixed bound whatever a tenant sends. The bound is measured the way the relay
publishes (JSON escaped to ASCII, where one 4-byte character costs 12 bytes), with room
left for the envelope's own fields.
"""

from __future__ import annotations

import json
from typing import Any

from services.pipeline.domain.errors import EventTooLarge

MAX_EVENT_BYTES = 64 * 1024
# event_id, site_id, account_id, both hashes, field names: well under this.
ENVELOPE_ALLOWANCE = 2 * 1024
BATCH_ITEMS_LISTED = 50
TITLE_CHARS = 80
MESSAGE_CHARS = 300


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_size(event_type: str, content: dict[str, Any]) -> None:
    size = len(json.dumps(content, ensure_ascii=True, separators=(",", ":"))) + ENVELOPE_ALLOWANCE
    if size > MAX_EVENT_BYTES:
        raise EventTooLarge(event_type, size, MAX_EVENT_BYTES)


def batch_listing(items: list[dict[str, Any]]) -> dict[str, Any]:
    """A batch as its event names it: how many items, and the first few with short titles."""
    listed = [{"id": str(i["id"]), "title": shorten(str(i.get("title", "")), TITLE_CHARS)}
              for i in items[:BATCH_ITEMS_LISTED]]
    return {"item_count": len(items), "items": listed}


def short_failure(failure: dict[str, str]) -> dict[str, str]:
    return {**failure, "title": shorten(failure.get("title", ""), TITLE_CHARS),
            "error": shorten(failure.get("error", ""), MESSAGE_CHARS)}
