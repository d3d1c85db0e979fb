"""Publishes scheduler commands to ``automation.commands`` (CONTRACT §5)."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from shared.events.commands import StartRun


class KafkaCommandPublisher:
    def __init__(self, broker: KafkaBroker, topic: str) -> None:
        self.broker = broker
        self.topic = topic

    async def publish(self, command: StartRun) -> None:
        # Keyed by site so a site's commands stay in order on one partition; awaited
        # (confirmed) because the slot's claim commits only after the broker has the command.
        await self.broker.publish(
            command.model_dump(mode="json"), self.topic, key=command.site_id.encode()
        )
