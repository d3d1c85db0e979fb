"""The pipeline producer's partitioner places every key where Kafka's default one does."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given, strategies as st

from services.pipeline.adapters.partitioner import KeyHashCachingPartitioner

pytestmark = pytest.mark.unit


@given(st.binary(min_size=1, max_size=64), st.integers(1, 64), st.integers(0, 3))
def test_a_key_lands_where_the_default_partitioner_puts_it(key: bytes, count: int, repeats: int) -> None:
    partitions = list(range(count))
    for _ in range(repeats + 1):  # the second time from the remembered hash
        assert KeyHashCachingPartitioner()(key, partitions, partitions) == DefaultPartitioner()(key, partitions, partitions)


def test_a_partition_count_that_grows_is_followed() -> None:
    key = b"site-1"
    for count in (3, 12):
        assert KeyHashCachingPartitioner()(key, list(range(count)), []) == DefaultPartitioner()(key, list(range(count)), [])
