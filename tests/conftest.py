"""Shared fixtures: end-to-end stacks of real processes on real PostgreSQL and Kafka."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.support.client import Api
from tests.support.stack import Stack, drop_database

FAILING_TOPIC = "zanzibar"


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """The default stack: offline AI with no latency, refusing anything about Zanzibar."""
    running = Stack("main", OFFLINE_AI_FAIL_PATTERN=FAILING_TOPIC).start()
    yield running
    running.stop()
    drop_database(running.database)


@pytest.fixture(scope="session")
def api(stack: Stack) -> Api:
    return Api(stack.base_url)
