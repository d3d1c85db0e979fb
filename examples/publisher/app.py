"""The FastStream app: consumes automation.events in its own group, publishes review-ready content."""

from __future__ import annotations

import asyncio
import logging

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from .content_api import ContentApi
from .output import OutputFolder
from .publish import Publisher
from .settings import PublisherSettings

log = logging.getLogger("publisher")


def create_app(settings: PublisherSettings) -> FastStream:
    broker = KafkaBroker(settings.kafka_bootstrap_servers, logger=log)
    api = ContentApi(settings.api_url, settings.api_token)
    publisher = Publisher(settings.account_id, api, OutputFolder(settings.output_dir))

    @broker.subscriber(
        settings.events_topic,
        group_id=settings.group_id,
        auto_offset_reset="earliest",
        # The offset is committed once the handler returns, so after the write; an error
        # seeks back to the event, which then comes again.
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def on_event(message: KafkaMessage) -> None:
        try:
            await publisher.handle(message.body)
        except Exception:
            await asyncio.sleep(settings.retry_delay_seconds)  # the API may be restarting
            raise

    app = FastStream(broker, logger=log)
    app.after_shutdown(api.close)
    return app
