"""The tamper-evident audit chain of a run's events (CONTRACT §3.3 ``/runs/{id}/events``, §6 audit).

Each run event stores ``hash = sha256(prev_hash + canonical_bytes(content))`` where
``prev_hash`` is the previous event's ``hash`` (``GENESIS_HASH`` for sequence 1) and
``content = {"run_id", "sequence", "type", "occurred_at", "data"}``. Changing, dropping,
reordering or inserting an event breaks the chain at the first event touched (for a
well-formed inserted forgery: at the event after it).

What the chain cannot show on its own: events cut off the *end* of a run, or a chain
rewritten and re-hashed in full. Both need an anchor kept elsewhere (e.g. the last hash).

Canonical form
--------------
JSON with sorted keys, no whitespace, UTF-8 (non-ASCII kept as is), no NaN/Infinity;
datetimes become ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` in UTC (see ``canonical_timestamp``;
one spelling per instant); Decimal and UUID become strings; tuples become lists; integer
keys become strings (as JSON itself would). Strings are hashed as they are, so store
``canonical_json_value(data)`` — the exact values that were hashed — and a round trip
through JSON or JSONB verifies unchanged. Floats survive Python's JSON but JSONB may
respell them (``1e+20``): keep event data to ints, strings, bools, lists and objects.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, Literal, Protocol
from uuid import UUID

GENESIS_HASH: Final = "0" * 64
FIRST_SEQUENCE: Final = 1

BreakReason = Literal["content_altered", "prev_hash_mismatch", "sequence_gap"]


# --- canonical form ------------------------------------------------------------------------


def canonical_timestamp(moment: datetime | str) -> str:
    """The one spelling of an instant used in hashes: ISO 8601 in UTC with a ``Z``.

    ``2024-03-10T02:00:00Z``, or ``2024-03-10T02:00:00.123456Z`` when there are
    microseconds: Python's ``isoformat()`` with ``+00:00`` spelled ``Z``, which is also how
    pydantic serialises a UTC datetime. Accepts an aware datetime or an ISO-8601 string
    with an offset (as read back from an API or a read model), so that a differently
    spelled time still verifies.
    """
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive time would hash differently depending on the machine's zone.
        raise ValueError(f"timestamp must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def canonical_json_value(value: Any) -> Any:
    """``value`` as plain JSON types (dict/list/str/int/float/bool/None), canonically spelled.

    Idempotent: ``canonical_json_value(canonical_json_value(v)) == canonical_json_value(v)``.
    """
    # bool before int: bool is an int subclass, and True must stay true, not 1.
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)  # IntEnum and friends → plain int
    if isinstance(value, str):
        return str(value)  # StrEnum and friends → plain str
    if isinstance(value, float):
        return _finite_float(value)
    if isinstance(value, datetime):
        return canonical_timestamp(value)
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if isinstance(value, Mapping):
        return _canonical_object(value)
    if isinstance(value, (list, tuple)):
        return [canonical_json_value(item) for item in value]
    raise TypeError(f"cannot put {type(value).__name__} into a hashed event: {value!r}")


def canonical_bytes(content: Mapping[str, Any]) -> bytes:
    """The exact bytes hashed for ``content``; identical in every process and machine."""
    text = json.dumps(
        canonical_json_value(content),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return text.encode("utf-8")


def _finite_float(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"NaN and infinities are not JSON: {value!r}")
    return float(value)


def _canonical_object(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, item in mapping.items():
        text_key = _canonical_key(key)
        if text_key in result:
            # {1: a, "1": b} would collapse to one key: refuse rather than drop one.
            raise ValueError(f"two keys both spell {text_key!r} in JSON")
        result[text_key] = canonical_json_value(item)
    return result


def _canonical_key(key: Any) -> str:
    if isinstance(key, str):
        return str(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return str(int(key))
    raise TypeError(f"object keys must be str or int, got {type(key).__name__}: {key!r}")


# --- hashing ---------------------------------------------------------------------------------


def chain_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    """sha256 hex digest of the bytes of ``prev_hash`` followed by ``canonical_bytes(content)``."""
    return hashlib.sha256(prev_hash.encode("utf-8") + canonical_bytes(content)).hexdigest()


def run_event_content(
    run_id: str,
    sequence: int,
    type: str,  # noqa: A002 - the contract's field name
    occurred_at: datetime | str,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    """The hashed part of a run event, canonically spelled."""
    return {
        "run_id": canonical_json_value(run_id),
        "sequence": canonical_json_value(sequence),
        "type": canonical_json_value(type),
        "occurred_at": canonical_timestamp(occurred_at),
        "data": canonical_json_value(data),
    }


# --- chained events ------------------------------------------------------------------------


class ChainedEvent(Protocol):
    """Anything with a run event's content fields and its chain links.

    ``shared.events.events.EventEnvelope`` and ``ChainedRunEvent`` both qualify.
    """

    @property
    def run_id(self) -> str: ...
    @property
    def sequence(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def occurred_at(self) -> datetime | str: ...
    @property
    def data(self) -> Mapping[str, Any]: ...
    @property
    def hash(self) -> str: ...
    @property
    def prev_hash(self) -> str: ...


@dataclass(frozen=True)
class ChainedRunEvent:
    """A run event with its chain links, as stored."""

    run_id: str
    sequence: int
    type: str
    occurred_at: datetime | str
    data: Mapping[str, Any]
    hash: str
    prev_hash: str


def content_of(event: ChainedEvent) -> dict[str, Any]:
    """The hashed part of ``event``."""
    return run_event_content(event.run_id, event.sequence, event.type, event.occurred_at, event.data)


def link_next(
    previous: ChainedEvent | None,
    run_id: str,
    type: str,  # noqa: A002 - the contract's field name
    occurred_at: datetime | str,
    data: Mapping[str, Any],
) -> ChainedRunEvent:
    """The event that follows ``previous`` (None: the run's first event), linked and hashed.

    Its ``occurred_at`` and ``data`` are the canonical values that were hashed: store those.
    """
    prev_hash = previous.hash if previous is not None else GENESIS_HASH
    sequence = previous.sequence + 1 if previous is not None else FIRST_SEQUENCE
    content = run_event_content(run_id, sequence, type, occurred_at, data)
    return ChainedRunEvent(
        **content,
        hash=chain_hash(prev_hash, content),
        prev_hash=prev_hash,
    )


# --- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    """The first event at which the chain does not hold.

    ``sequence`` is the sequence the event carries; ``position`` is where it was found
    (1 for the first event given), which differs from ``sequence`` when events went missing
    or were reordered.
    """

    sequence: int
    position: int
    reason: BreakReason
    detail: str


def verify_chain(events: Iterable[ChainedEvent]) -> ChainBreak | None:
    """None if ``events`` (in stored order) form an intact chain, else its first break.

    Checked per event, in this order: its sequence is the previous one + 1 (1 first),
    its ``prev_hash`` is the previous event's ``hash`` (GENESIS_HASH first), and its
    ``hash`` matches its recomputed content hash. An empty chain is intact.
    """
    expected_sequence = FIRST_SEQUENCE
    expected_prev_hash = GENESIS_HASH
    for position, event in enumerate(events, start=1):
        problem = _first_problem(event, expected_sequence, expected_prev_hash)
        if problem is not None:
            reason, detail = problem
            return ChainBreak(event.sequence, position, reason, detail)
        expected_sequence = event.sequence + 1
        expected_prev_hash = event.hash
    return None


def _first_problem(
    event: ChainedEvent, expected_sequence: int, expected_prev_hash: str
) -> tuple[BreakReason, str] | None:
    if event.sequence != expected_sequence:
        return "sequence_gap", f"expected sequence {expected_sequence}, found {event.sequence}"
    if event.prev_hash != expected_prev_hash:
        return "prev_hash_mismatch", (
            f"prev_hash {event.prev_hash} is not the previous event's hash {expected_prev_hash}"
        )
    try:
        recomputed = chain_hash(event.prev_hash, content_of(event))
    except (TypeError, ValueError) as error:
        # Content too mangled to canonicalise (e.g. a time without a zone) was altered.
        return "content_altered", f"content cannot be hashed: {error}"
    if recomputed != event.hash:
        return "content_altered", f"stored hash {event.hash} but content hashes to {recomputed}"
    return None
