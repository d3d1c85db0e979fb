"""Deciding a batch of commands: each site's in order, the sites side by side.

A command's Kafka key is its site, so keeping the order of each key (within its partition,
where Kafka keeps it) keeps each site's; different sites have nothing to wait for each other.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Hashable, Protocol, Sequence, TypeVar


class Keyed(Protocol):
    @property
    def partition(self) -> int: ...

    @property
    def key(self) -> Hashable: ...


R = TypeVar("R", bound=Keyed)


async def in_site_lanes(records: Sequence[R], decide: Callable[[R], Awaitable[None]]) -> None:
    """``decide`` each record, a key's records one after another in their order.

    A record whose decision raises stops its lane there; the other lanes still finish (a
    decision can't be taken back from its thread anyway), then the first error is raised,
    for the whole batch to come again: what was decided comes back as duplicates, and
    nothing of a site after its failed record was decided before it."""
    lanes: dict[tuple[int, Hashable], list[R]] = {}
    for record in records:
        lanes.setdefault((record.partition, record.key), []).append(record)

    async def lane(queue: list[R]) -> None:
        for record in queue:
            await decide(record)

    outcomes = await asyncio.gather(*(lane(queue) for queue in lanes.values()), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
