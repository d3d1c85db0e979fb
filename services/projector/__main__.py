"""``python -m services.projector``: turns automation.events into the API's read models."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker

from pydantic import ValidationError

from services.projector.writer import project
from shared.events.events import EventEnvelope
from shared.infra.db import create_pool
from shared.infra.migrate import exit_unless_current_schema
from shared.infra.settings import Settings, get_settings
from shared.infra.topics import ensure_topics

log = logging.getLogger("projector")


def create_app(settings: Settings) -> FastStream:
    broker = KafkaBroker(settings.kafka_bootstrap_servers, logger=log)
    holder: dict[str, Any] = {}

    @broker.subscriber(
        settings.events_topic,
        group_id=settings.group_id("projector"),
        auto_offset_reset="earliest",
        # Whatever the broker has ready, up to a bound: one transaction per batch, not per event.
        batch=True,
        max_records=500,
        # Committed after the views are written; an error seeks back so nothing is skipped.
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def on_events(bodies: list[Any]) -> None:
        events = []
        for body in bodies:
            try:
                events.append(EventEnvelope.model_validate(body).model_dump(mode="json"))
            except ValidationError as error:
                # A malformed event can never be applied: retrying it would block its partition.
                log.error("dropped a malformed event %r: %s", body, error)
        if events:
            async with holder["pool"].acquire() as conn:
                await project(conn, events)

    app = FastStream(broker, logger=log)

    @app.on_startup
    async def start() -> None:
        await ensure_topics(settings)
        holder["pool"] = await create_pool(settings.database_url, max_size=4)

    @app.on_shutdown
    async def stop() -> None:
        if "pool" in holder:
            await holder["pool"].close()

    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    exit_unless_current_schema(settings.database_url)
    asyncio.run(create_app(settings).run())


if __name__ == "__main__":
    main()
