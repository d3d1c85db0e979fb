"""Kafka's default partitioner, remembering each key's hash.

aiokafka hashes the key (murmur2, in pure Python) for every message it sends; the relay sends
every event of a site with the same key, so the hash is computed once a site. The partition
is chosen as the default partitioner chooses it, from the partitions the producer knows now.
"""

from __future__ import annotations

from functools import lru_cache

from aiokafka.partitioner import DefaultPartitioner, murmur2

_hash = lru_cache(maxsize=65_536)(murmur2)


class KeyHashCachingPartitioner(DefaultPartitioner):
    @classmethod
    def __call__(cls, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            return super().__call__(key, all_partitions, available)
        return all_partitions[(_hash(key) & 0x7FFFFFFF) % len(all_partitions)]
