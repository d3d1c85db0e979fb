"""Which partition of a topic a site's messages land in (Kafka's default partitioner)."""

from __future__ import annotations

from aiokafka.partitioner import murmur2


def partition_of(site_id: str, partitions: int) -> int:
    return (murmur2(site_id.encode()) & 0x7FFFFFFF) % partitions
