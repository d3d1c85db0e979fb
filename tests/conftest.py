"""Shared fixtures: end-to-end stacks of real processes on real PostgreSQL and Kafka."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.support.client import Api
from tests.support.stack import Stack

FAILING_TOPIC = "zanzibar"


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """The default stack: offline AI with no latency, refusing anything about Zanzibar."""
    with Stack("main", OFFLINE_AI_FAIL_PATTERN=FAILING_TOPIC) as running:
        yield running


@pytest.fixture(scope="session")
def api(stack: Stack) -> Api:
    return Api(stack.base_url)
