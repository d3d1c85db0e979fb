"""Consumer lag per group and partition: the topic's end offsets minus the group's commits."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.observability.metrics import CONSUMER_LAG


class ConsumerLagProbe:
    def __init__(self, bootstrap_servers: str, group: str, topic: str) -> None:
        self.group = group
        self.topic = topic
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
        # No group: it only asks for end offsets, it never joins or commits.
        self._offsets = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
        self._started = False
        self._partitions: list[TopicPartition] = []

    async def __call__(self) -> None:
        if not self._started:
            await self._admin.start()
            await self._offsets.start()
            self._started = True
        if not self._partitions:  # topics are made with their partitions once; asked for once
            [described] = await self._admin.describe_topics([self.topic])
            self._partitions = [TopicPartition(self.topic, p["partition"]) for p in described["partitions"]]
        partitions = self._partitions
        ends = await self._offsets.end_offsets(partitions)
        committed = await self._admin.list_consumer_group_offsets(self.group, partitions=partitions)
        for tp in partitions:
            meta = committed.get(tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else 0
            CONSUMER_LAG.labels(self.group, self.topic, str(tp.partition)).set(max(0, ends[tp] - done))

    async def close(self) -> None:
        if self._started:
            await self._offsets.stop()
            await self._admin.close()
