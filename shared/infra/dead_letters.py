"""The dead-letter table: records a consumer set aside, for operators to see.

A record that can never be handled (not JSON, wrong types, too large, another account's
run) is written here, then acknowledged, so it never blocks its partition and is never
lost without a trace. Both consumers (pipeline, projector) write through ``record``; the
API counts them in ``/readyz``; ``automation dead-letters`` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

# Enough to see what was sent, small enough that garbage can't bloat the table.
MAX_KEPT_BYTES = 64 * 1024


@dataclass(frozen=True)
class DeadLetter:
    consumer: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    reason: str

    @classmethod
    def of(cls, consumer: str, record: Any, reason: str) -> "DeadLetter":
        """From an aiokafka ``ConsumerRecord`` (what FastStream's ``msg.raw_message`` holds)."""
        value = record.value if isinstance(record.value, bytes) else b""
        return cls(consumer, record.topic, record.partition, record.offset, record.key, value, reason)


def describe(error: Exception) -> str:
    """Why a record was set aside, in one line: the number of problems and the first of them."""
    errors = getattr(error, "errors", None)
    if callable(errors):  # a pydantic ValidationError
        problems = errors()
        first = problems[0]
        where = ".".join(str(part) for part in first["loc"]) or "the message"
        return f"{len(problems)} problem(s), first: {where}: {first['msg']}"[:300]
    return (str(error).splitlines() or [type(error).__name__])[0][:300]


async def record(pool: asyncpg.Pool, letter: DeadLetter) -> None:
    """Idempotent: a redelivered record keeps its first row."""
    await pool.execute(
        'INSERT INTO dead_letters (consumer, topic, "partition", "offset", key, value, value_size, reason)'
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ' ON CONFLICT (consumer, topic, "partition", "offset") DO NOTHING',
        letter.consumer, letter.topic, letter.partition, letter.offset, letter.key,
        letter.value[:MAX_KEPT_BYTES], len(letter.value), letter.reason[:2000],
    )


async def count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM dead_letters"))


@dataclass(frozen=True)
class Listed:
    recorded_at: datetime
    consumer: str
    topic: str
    partition: int
    offset: int
    key: str
    size: int
    preview: str
    reason: str


async def newest(pool: asyncpg.Pool, limit: int = 100) -> list[Listed]:
    rows = await pool.fetch(
        'SELECT recorded_at, consumer, topic, "partition", "offset", key, value_size, reason,'
        " substring(value from 1 for 80) AS head"
        " FROM dead_letters ORDER BY recorded_at DESC, id DESC LIMIT $1", limit,
    )
    return [Listed(r["recorded_at"], r["consumer"], r["topic"], r["partition"], r["offset"],
                   _text(r["key"]), r["value_size"], _text(r["head"]), r["reason"]) for r in rows]


def _text(raw: bytes | None) -> str:
    """Printable, whatever the bytes: a terminal must not be driven by a tenant's garbage."""
    if raw is None:
        return ""
    text = raw.decode("utf-8", errors="replace")
    return "".join(c if c.isprintable() else "?" for c in text)
