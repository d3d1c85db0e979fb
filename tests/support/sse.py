"""A small Server-Sent Events reader for tests: the events of one connection, parsed."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import httpx


@dataclass(frozen=True)
class Event:
    id: str | None
    kind: str
    data: Any
    received: float  # time.monotonic() when it arrived


def parse(lines: Iterator[str]) -> Iterator[Event]:
    """Events from the text lines of a stream (the SSE format: fields, then a blank line)."""
    event_id, kind, data = None, "message", []
    for line in lines:
        if line == "":
            if data:
                yield Event(event_id, kind, json.loads("\n".join(data)), time.monotonic())
            kind, data = "message", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "id":
            event_id = value
        elif field == "event":
            kind = value
        elif field == "data":
            data.append(value)


def read_until(base_url: str, token: str, site_id: str, until: Callable[[list[Event]], bool],
               last_event_id: str | None = None, timeout: float = 60.0) -> list[Event]:
    """Open the site's stream and read events until ``until`` holds for the events so far,
    then hang up (as a client that goes away does)."""
    headers = {"Authorization": f"Bearer {token}"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    with httpx.stream("GET", f"{base_url}/api/v1/automation/stream", params={"site_id": site_id},
                      headers=headers, timeout=httpx.Timeout(10, read=20)) as answer:
        assert answer.status_code == 200, answer.read()
        assert answer.headers["content-type"].startswith("text/event-stream")
        for event in parse(answer.iter_lines()):
            events.append(event)
            if until(events):
                return events
            if time.monotonic() > deadline:
                break
    raise TimeoutError(f"the stream never matched; {len(events)} events: {events[-3:]}")


def final_status(events: list[Event]) -> str | None:
    runs = [e.data for e in events if e.kind == "run"]
    return runs[-1]["status"] if runs else None
