"""The FastStream app: consumes automation.events in its own group, publishes review-ready content."""

from __future__ import annotations

import asyncio
import logging

from automation_events import ContentReadyForReview, parse_event
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from .content_api import ContentApi, NotFound
from .output import OutputFolder
from .publish import publish_content
from .settings import PublisherSettings

log = logging.getLogger("publisher")


def create_app(settings: PublisherSettings) -> FastStream:
    broker = KafkaBroker(settings.kafka_bootstrap_servers, logger=log)
    folder = OutputFolder(settings.output_dir)
    api = ContentApi(settings.api_url, settings.api_token)

    @broker.subscriber(
        settings.events_topic,
        group_id=settings.group_id,
        auto_offset_reset="earliest",
        # The offset is committed after the handler returns, so after the write; an error
        # seeks back to the event, which comes again.
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def on_event(message: KafkaMessage) -> None:
        try:
            event = parse_event(message.body)
        except ValueError as error:
            log.error("skipped a message that is not an event: %s", error)  # it can never succeed
            return
        if not isinstance(event, ContentReadyForReview) or event.account_id != settings.account_id:
            return
        try:
            path = await publish_content(event, api, folder)
        except NotFound:
            log.warning("content %s is not visible to this token: skipped", event.data.content_id)
            return
        except Exception:
            await asyncio.sleep(settings.retry_delay_seconds)  # then the event comes again
            raise
        if path is not None:
            log.info("published %s (%s) for event %s", event.data.content_id, event.data.title, event.event_id)

    app = FastStream(broker, logger=log)
    app.after_shutdown(api.close)
    return app
