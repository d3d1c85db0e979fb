"""Unit tests of shared/events/hashchain.py."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shared.events.hashchain import (
    GENESIS_HASH,
    ChainBreak,
    ChainedRunEvent,
    canonical_bytes,
    canonical_json_value,
    canonical_timestamp,
    chain_hash,
    content_of,
    link_next,
    run_event_content,
    verify_chain,
)

pytestmark = pytest.mark.unit

Chain = list[ChainedRunEvent]
REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_ID = "run-1"
T0 = datetime(2024, 3, 10, 2, 0, tzinfo=UTC)


Step = tuple[str, datetime, dict[str, Any]]


def build_chain(steps: list[Step], run_id: str = RUN_ID) -> Chain:
    chain: Chain = []
    for event_type, occurred_at, data in steps:
        chain.append(link_next(chain[-1] if chain else None, run_id, event_type, occurred_at, data))
    return chain


def sample_chain(length: int = 5) -> Chain:
    return build_chain(
        [("StageStarted", T0 + timedelta(seconds=i), {"stage": i, "name": f"s{i}"}) for i in range(length)]
    )


# --- strategies -----------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.text() | st.floats(
    allow_nan=False, allow_infinity=False
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=6,
)
event_data = st.dictionaries(st.text(max_size=8), json_values, max_size=4)
aware_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
event_types = st.sampled_from(["RunStarted", "StageStarted", "CreditsUsed", "RunCompleted"])
steps = st.tuples(event_types, aware_times, event_data)
chains = st.lists(steps, min_size=1, max_size=6).map(build_chain)
longer_chains = st.lists(steps, min_size=2, max_size=6).map(build_chain)


# --- canonical form ---------------------------------------------------------------------------


def test_canonical_bytes_is_sorted_compact_utf8() -> None:
    content = {"b": [1, True, None], "a": {"z": "é", "y": 1.5}}
    assert canonical_bytes(content) == '{"a":{"y":1.5,"z":"é"},"b":[1,true,null]}'.encode()


def test_canonical_bytes_spells_datetimes_decimals_and_uuids() -> None:
    content = {
        "at": datetime(2024, 3, 10, 4, 0, tzinfo=timezone(timedelta(hours=2))),
        "amount": Decimal("12.50"),
        "id": UUID("12345678-1234-5678-1234-567812345678"),
        "pair": (1, 2),
        3: "int key",
    }
    assert canonical_bytes(content) == (
        b'{"3":"int key","amount":"12.50","at":"2024-03-10T02:00:00Z",'
        b'"id":"12345678-1234-5678-1234-567812345678","pair":[1,2]}'
    )


def test_enums_hash_as_their_values() -> None:
    class Color(StrEnum):
        RED = "red"

    class Level(IntEnum):
        HIGH = 3

    assert canonical_bytes({"c": Color.RED, "l": Level.HIGH}) == b'{"c":"red","l":3}'


@pytest.mark.parametrize(
    "bad",
    [{"x": float("nan")}, {"x": float("inf")}, {"at": datetime(2024, 1, 1)}, {1: "a", "1": "b"}],
)
def test_unhashable_values_raise_value_error(bad: dict[Any, Any]) -> None:
    with pytest.raises(ValueError):
        canonical_bytes(bad)


@pytest.mark.parametrize("bad", [{"x": {1, 2}}, {"x": object()}, {(1, 2): "tuple key"}, {"x": b"bytes"}])
def test_non_json_types_raise_type_error(bad: dict[Any, Any]) -> None:
    with pytest.raises(TypeError):
        canonical_bytes(bad)


def test_booleans_stay_booleans() -> None:
    assert canonical_bytes({"a": True, "b": 1}) == b'{"a":true,"b":1}'


@pytest.mark.parametrize(
    "spelling",
    [
        T0,
        T0.astimezone(timezone(timedelta(hours=5, minutes=30))),
        "2024-03-10T02:00:00Z",
        "2024-03-10T02:00:00+00:00",
        "2024-03-10T02:00:00.000000Z",
        "2024-03-10T02:00:00.000+00:00",
        "2024-03-10T03:00:00+01:00",
    ],
)
def test_canonical_timestamp_has_one_spelling_per_instant(spelling: datetime | str) -> None:
    assert canonical_timestamp(spelling) == "2024-03-10T02:00:00Z"


def test_canonical_timestamp_keeps_microseconds() -> None:
    moment = datetime(2024, 3, 10, 2, 0, 0, 120, tzinfo=UTC)
    assert canonical_timestamp(moment) == "2024-03-10T02:00:00.000120Z"
    assert canonical_timestamp("2024-03-10T03:00:00.000120+01:00") == "2024-03-10T02:00:00.000120Z"


@given(st.datetimes(timezones=st.just(UTC)))
def test_canonical_timestamp_is_isoformat_with_z(moment: datetime) -> None:
    # The spelling the pipeline's aggregate writes: isoformat() with +00:00 as Z.
    spelled = canonical_timestamp(moment)
    assert spelled == moment.isoformat().replace("+00:00", "Z")
    assert canonical_timestamp(spelled) == spelled


@pytest.mark.parametrize("bad", ["2024-03-10T02:00:00", "not a time", datetime(2024, 3, 10)])
def test_canonical_timestamp_refuses_ambiguous_or_bad_times(bad: datetime | str) -> None:
    with pytest.raises(ValueError):
        canonical_timestamp(bad)


@given(json_values)
def test_canonical_json_value_is_idempotent_and_json_round_trips(value: Any) -> None:
    once = canonical_json_value(value)
    assert canonical_json_value(once) == once
    assert canonical_bytes({"v": json.loads(json.dumps(once))}) == canonical_bytes({"v": value})


@given(st.dictionaries(st.text(max_size=5), json_scalars, max_size=6))
def test_key_order_does_not_matter(mapping: dict[str, Any]) -> None:
    reversed_mapping = dict(reversed(list(mapping.items())))
    assert canonical_bytes(mapping) == canonical_bytes(reversed_mapping)


def test_canonical_bytes_is_the_same_in_another_process() -> None:
    content = {"set_like": ["b", "a"], "nested": {"é": 1, "a": [None, 2.5]}, "at": T0}
    script = (
        "from datetime import datetime, UTC;"
        "from shared.events.hashchain import canonical_bytes;"
        "import sys;"
        "content = {'at': datetime(2024, 3, 10, 2, 0, tzinfo=UTC), 'nested': {'a': [None, 2.5], 'é': 1},"
        " 'set_like': ['b', 'a']};"
        "sys.stdout.write(canonical_bytes(content).hex())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO_ROOT)}
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env, cwd=REPO_ROOT
    ).stdout
    assert bytes.fromhex(output) == canonical_bytes(content)


# --- hashing --------------------------------------------------------------------------------


def test_genesis_hash_is_64_zeros() -> None:
    assert GENESIS_HASH == "0" * 64


def test_chain_hash_is_sha256_of_prev_hash_then_canonical_content() -> None:
    content = run_event_content(RUN_ID, 1, "RunStarted", T0, {"trigger_type": "manual"})
    expected = hashlib.sha256(
        GENESIS_HASH.encode()
        + b'{"data":{"trigger_type":"manual"},"occurred_at":"2024-03-10T02:00:00Z",'
        b'"run_id":"run-1","sequence":1,"type":"RunStarted"}'
    ).hexdigest()
    assert chain_hash(GENESIS_HASH, content) == expected


def test_chain_hash_pinned_value() -> None:
    # Pins the format: changing it would invalidate every stored audit trail.
    content = run_event_content(RUN_ID, 1, "RunStarted", T0, {"trigger_type": "manual"})
    pinned = "f7a1deb713e7cd45ce98612cb843aea9fcf451ddcd14220a196ff4a241bfe8ed"
    assert chain_hash(GENESIS_HASH, content) == pinned


@given(st.sampled_from([GENESIS_HASH, "a" * 64]), event_data, event_data)
def test_chain_hash_depends_on_content(prev_hash: str, first: dict[str, Any], second: dict[str, Any]) -> None:
    assume(canonical_bytes(first) != canonical_bytes(second))
    assert chain_hash(prev_hash, first) != chain_hash(prev_hash, second)


def test_chain_hash_depends_on_prev_hash() -> None:
    content = {"a": 1}
    assert chain_hash(GENESIS_HASH, content) != chain_hash("f" * 64, content)


def test_link_next_numbers_and_links_from_genesis() -> None:
    chain = sample_chain(3)
    assert [event.sequence for event in chain] == [1, 2, 3]
    assert chain[0].prev_hash == GENESIS_HASH
    assert chain[1].prev_hash == chain[0].hash
    assert chain[2].prev_hash == chain[1].hash
    assert all(len(event.hash) == 64 for event in chain)
    assert chain[0].occurred_at == "2024-03-10T02:00:00Z"


# --- verification: intact chains -------------------------------------------------------------


def test_empty_chain_verifies() -> None:
    assert verify_chain([]) is None


@given(chains)
def test_untouched_chain_verifies(chain: Chain) -> None:
    assert verify_chain(chain) is None
    assert verify_chain(iter(chain)) is None


@given(chains)
def test_chain_verifies_after_a_json_round_trip(chain: Chain) -> None:
    # As served by GET /runs/{id}/events or read back from a JSONB read model.
    served = json.loads(json.dumps([dataclasses.asdict(event) for event in chain]))
    assert verify_chain([ChainedRunEvent(**event) for event in served]) is None


def test_chain_verifies_with_times_spelled_differently() -> None:
    chain = sample_chain(3)
    respelled = [
        dataclasses.replace(event, occurred_at=datetime.fromisoformat(str(event.occurred_at)))
        for event in chain
    ]
    assert verify_chain(respelled) is None


def test_chain_hashed_over_pre_spelled_times_verifies() -> None:
    # The aggregate hashes occurred_at as the string isoformat().replace("+00:00", "Z").
    previous_hash, events = GENESIS_HASH, []
    for sequence, moment in enumerate([T0, T0 + timedelta(microseconds=250)], start=1):
        spelled = moment.isoformat().replace("+00:00", "Z")
        content = {"run_id": RUN_ID, "sequence": sequence, "type": "X", "occurred_at": spelled, "data": {}}
        event_hash = chain_hash(previous_hash, content)
        events.append(ChainedRunEvent(RUN_ID, sequence, "X", moment, {}, event_hash, previous_hash))
        previous_hash = event_hash
    assert verify_chain(events) is None


def test_envelope_like_objects_verify() -> None:
    from shared.events.events import EventEnvelope

    chain = sample_chain(2)
    envelopes = [
        EventEnvelope(
            event_id=f"e{event.sequence}",
            type=event.type,
            run_id=event.run_id,
            site_id="site",
            account_id="acct",
            sequence=event.sequence,
            occurred_at=event.occurred_at,  # type: ignore[arg-type]
            data=dict(event.data),
            hash=event.hash,
            prev_hash=event.prev_hash,
        )
        for event in chain
    ]
    assert verify_chain(envelopes) is None


# --- verification: tampering ---------------------------------------------------------------


def test_altered_data_names_that_event() -> None:
    chain = sample_chain(5)
    chain[2] = dataclasses.replace(chain[2], data={"stage": 99, "name": "s2"})
    found = verify_chain(chain)
    assert isinstance(found, ChainBreak)
    assert (found.sequence, found.position, found.reason) == (3, 3, "content_altered")
    assert chain[2].hash in found.detail


@pytest.mark.parametrize(
    "field_change",
    [
        {"type": "RunCompleted"},
        {"occurred_at": T0 + timedelta(days=1)},
        {"run_id": "run-2"},
        {"hash": "f" * 64},
    ],
)
def test_any_altered_field_is_content_altered(field_change: dict[str, Any]) -> None:
    chain = sample_chain(4)
    chain[1] = dataclasses.replace(chain[1], **field_change)
    found = verify_chain(chain)
    assert found is not None and (found.sequence, found.reason) == (2, "content_altered")


def test_unparseable_content_is_content_altered() -> None:
    chain = sample_chain(3)
    chain[1] = dataclasses.replace(chain[1], occurred_at="yesterday")
    found = verify_chain(chain)
    assert found is not None and (found.sequence, found.reason) == (2, "content_altered")


def test_altered_prev_hash_is_prev_hash_mismatch() -> None:
    chain = sample_chain(3)
    chain[0] = dataclasses.replace(chain[0], prev_hash="1" * 64)
    found = verify_chain(chain)
    assert found is not None
    assert (found.sequence, found.position, found.reason) == (1, 1, "prev_hash_mismatch")


def test_chain_must_start_at_sequence_one() -> None:
    found = verify_chain(sample_chain(3)[1:])
    assert found is not None
    assert (found.sequence, found.position, found.reason) == (2, 1, "sequence_gap")


def test_dropping_the_last_event_is_not_detectable_by_the_chain_alone() -> None:
    # Documented limit: truncation needs an anchor (the last hash) kept elsewhere.
    assert verify_chain(sample_chain(4)[:-1]) is None


@given(chains, st.data())
def test_altering_any_events_data_is_found_at_that_event(chain: Chain, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(chain) - 1))
    original = chain[index].data
    replacement = data.draw(event_data | st.just({"tampered": original}))
    assume(canonical_bytes(replacement) != canonical_bytes(original))
    chain[index] = dataclasses.replace(chain[index], data=replacement)

    found = verify_chain(chain)
    assert found is not None
    assert (found.sequence, found.position, found.reason) == (index + 1, index + 1, "content_altered")


@given(longer_chains, st.data())
def test_swapping_two_events_is_found_at_the_first_swapped(chain: Chain, data: st.DataObject) -> None:
    first = data.draw(st.integers(0, len(chain) - 2))
    second = data.draw(st.integers(first + 1, len(chain) - 1))
    chain[first], chain[second] = chain[second], chain[first]

    found = verify_chain(chain)
    assert found is not None
    assert (found.sequence, found.position, found.reason) == (second + 1, first + 1, "sequence_gap")


@given(longer_chains, st.data())
def test_swapping_and_renumbering_is_found_at_the_first_swapped(
    chain: Chain, data: st.DataObject
) -> None:
    first = data.draw(st.integers(0, len(chain) - 2))
    second = data.draw(st.integers(first + 1, len(chain) - 1))
    chain[first], chain[second] = chain[second], chain[first]
    chain = _renumbered(chain)

    found = verify_chain(chain)
    assert found is not None
    assert (found.position, found.reason) == (first + 1, "prev_hash_mismatch")


@given(longer_chains, st.data())
def test_dropping_an_event_is_found_at_its_successor(chain: Chain, data: st.DataObject) -> None:
    dropped = data.draw(st.integers(0, len(chain) - 2))
    del chain[dropped]

    found = verify_chain(chain)
    assert found is not None
    assert (found.sequence, found.position, found.reason) == (dropped + 2, dropped + 1, "sequence_gap")


@given(longer_chains, st.data())
def test_dropping_and_renumbering_is_found_at_the_successor(
    chain: Chain, data: st.DataObject
) -> None:
    dropped = data.draw(st.integers(0, len(chain) - 2))
    del chain[dropped]
    chain = _renumbered(chain)

    found = verify_chain(chain)
    assert found is not None
    assert (found.sequence, found.position, found.reason) == (dropped + 1, dropped + 1, "prev_hash_mismatch")


@given(longer_chains, st.data())
def test_rehashing_an_altered_event_breaks_its_successor(chain: Chain, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(chain) - 2))
    forged = dataclasses.replace(chain[index], data={"tampered": chain[index].data})
    chain[index] = dataclasses.replace(forged, hash=chain_hash(forged.prev_hash, content_of(forged)))

    found = verify_chain(chain)
    assert found is not None
    assert (found.sequence, found.reason) == (index + 2, "prev_hash_mismatch")


@given(chains, st.data())
def test_inserting_a_forged_event_is_found_where_inserted(chain: Chain, data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(chain) - 1))
    previous = chain[at - 1] if at > 0 else None
    forged = link_next(previous, RUN_ID, "RunCompleted", T0, {"forged": True})
    chain.insert(at, forged)

    found = verify_chain(chain)
    assert found is not None
    # The forgery itself is well formed; its successor now repeats its sequence.
    assert (found.position, found.reason) == (at + 2, "sequence_gap")


def _renumbered(chain: Chain) -> Chain:
    return [dataclasses.replace(event, sequence=number) for number, event in enumerate(chain, start=1)]
