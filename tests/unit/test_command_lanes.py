"""A batch of commands: each site's decided in order, the sites side by side."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from services.pipeline.entrypoints.command_lanes import in_site_lanes


@dataclass(frozen=True)
class Rec:
    partition: int
    key: bytes
    name: str


async def test_sites_are_decided_side_by_side_each_in_its_order() -> None:
    seen: list[str] = []

    async def decide(record: Rec) -> None:
        seen.append(f"start {record.name}")
        for _ in range(3):  # a decision's hops: other sites' decisions go on meanwhile
            await asyncio.sleep(0)
        seen.append(f"end {record.name}")

    # Sites a and b share partition 0, c has partition 1 to itself.
    batch = [Rec(0, b"a", "a1"), Rec(0, b"a", "a2"), Rec(0, b"b", "b1"), Rec(0, b"a", "a3"), Rec(1, b"c", "c1")]
    await in_site_lanes(batch, decide)

    assert seen.index("start b1") < seen.index("end a1") and seen.index("start c1") < seen.index("end a1")
    lane = [step for step in seen if step.endswith(("a1", "a2", "a3"))]
    assert lane == ["start a1", "end a1", "start a2", "end a2", "start a3", "end a3"]


async def test_a_failed_decision_stops_its_site_and_is_raised_after_the_others() -> None:
    decided: list[str] = []

    async def decide(record: Rec) -> None:
        await asyncio.sleep(0)
        if record.name == "a1":
            raise ConnectionError("database away")
        decided.append(record.name)

    batch = [Rec(0, b"a", "a1"), Rec(0, b"b", "b1"), Rec(0, b"a", "a2"), Rec(1, b"c", "c1"), Rec(0, b"b", "b2")]
    with pytest.raises(ConnectionError):
        await in_site_lanes(batch, decide)
    assert sorted(decided) == ["b1", "b2", "c1"]  # nothing of site a after its failure; the others finished
