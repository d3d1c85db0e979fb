"""A local OpenAI-compatible server for tests: real HTTP, scripted faults, recorded requests.

    fake = FakeOpenAI().start()
    fake.script(Status(429), OK)          # the next two requests: a rate limit, then an answer
    ... point the client at fake.base_url ...
    assert len(fake.requests) == 2
    fake.stop()

Chat answers follow ``response_format.json_schema.name``: keyword_clusters, article_ideas,
article, image_prompts. Faults are consumed one per request, whichever the endpoint.

    fake.storm(every=3)                   # a 429 to every third unscripted request,
                                          # every other one of them without Retry-After
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.support.fake_openai_answers import answer_for, estimate_tokens, png_for


@dataclass(frozen=True)
class Ok:
    """Answer normally."""


@dataclass(frozen=True)
class Status:
    """Fail with this HTTP status; a short Retry-After keeps client retries fast."""

    code: int
    retry_after_ms: int | None = 10
    message: str | None = None


@dataclass(frozen=True)
class Delay:
    """Wait this long, then answer normally (longer than the client timeout = a timeout)."""

    seconds: float


@dataclass(frozen=True)
class Reply:
    """Answer a chat request with this exact message content (e.g. malformed JSON)."""

    content: str


@dataclass(frozen=True)
class ImageUrl:
    """Answer an image request with a hosted URL instead of base64."""

    url: str


OK = Ok()
MALFORMED = Reply('{"this is": "not valid JSON for the schema", ')
Step = Ok | Status | Delay | Reply | ImageUrl


@dataclass
class RecordedRequest:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    usage: dict[str, int] | None = None  # the usage the fake answered with, if any
    rate_limited: bool = False  # answered 429
    retry_after_ms: int | None = None  # the Retry-After of that 429, if it had one
    at: float = field(default_factory=time.monotonic)

    @property
    def schema_name(self) -> str | None:
        return (self.body.get("response_format") or {}).get("json_schema", {}).get("name")


class FakeOpenAI:
    def __init__(self) -> None:
        self._steps: deque[Step] = deque()
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._storm_every = 0
        self._unscripted = 0
        # How many requests it was answering at once, at most: what a caller's concurrency cap allows.
        self.latency = 0.0
        self.peak_in_flight = 0
        self._in_flight = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1"

    def script(self, *steps: Step) -> None:
        with self._lock:
            self._steps.extend(steps)

    def storm(self, every: int = 3, retry_after_ms: int = 50) -> None:
        """Answer 429 to every ``every``-th unscripted request; every other 429 says Retry-After."""
        with self._lock:
            self._storm_every, self._storm_retry_after_ms, self._unscripted = every, retry_after_ms, 0

    def reset(self) -> None:
        with self._lock:
            self._steps.clear()
            self.requests.clear()
            self._storm_every = 0
            self.peak_in_flight = 0

    def start(self, timeout: float = 10.0) -> FakeOpenAI:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app(), log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True, name="fake-openai"
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake OpenAI server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_step(self, request: Request, body: dict[str, Any]) -> tuple[Step, RecordedRequest]:
        record = RecordedRequest(request.url.path, body, dict(request.headers))
        with self._lock:
            self.requests.append(record)
            step = self._steps.popleft() if self._steps else self._unscripted_step()
        if isinstance(step, Status) and step.code == 429:
            record.rate_limited, record.retry_after_ms = True, step.retry_after_ms
        return step, record

    def _unscripted_step(self) -> Step:
        if not self._storm_every:
            return OK
        self._unscripted += 1
        if self._unscripted % self._storm_every:
            return OK
        with_header = (self._unscripted // self._storm_every) % 2 == 0
        return Status(429, retry_after_ms=self._storm_retry_after_ms if with_header else None)

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def count_in_flight(request: Request, call_next: Any) -> Any:
            with self._lock:
                self._in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
            try:
                await asyncio.sleep(self.latency)
                return await call_next(request)
            finally:
                with self._lock:
                    self._in_flight -= 1

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> JSONResponse:
            body = await request.json()
            step, record = self._next_step(request, body)
            if (failure := await _apply(step)) is not None:
                return failure
            content = step.content if isinstance(step, Reply) else json.dumps(answer_for(body))
            record.usage = {
                "prompt_tokens": estimate_tokens(json.dumps(body["messages"])),
                "completion_tokens": estimate_tokens(content),
            }
            record.usage["total_tokens"] = sum(record.usage.values())
            return JSONResponse(_completion(body, content, record.usage))

        @app.post("/v1/images/generations")
        async def images(request: Request) -> JSONResponse:
            body = await request.json()
            step, _ = self._next_step(request, body)
            if (failure := await _apply(step)) is not None:
                return failure
            if isinstance(step, ImageUrl):
                image = {"url": step.url}
            else:
                image = {"b64_json": base64.b64encode(png_for(body["prompt"])).decode()}
            return JSONResponse({"created": int(time.time()), "data": [image]})

        return app


async def _apply(step: Step) -> JSONResponse | None:
    if isinstance(step, Delay):
        await asyncio.sleep(step.seconds)
    if not isinstance(step, Status):
        return None
    headers = {} if step.retry_after_ms is None else {"retry-after-ms": str(step.retry_after_ms)}
    error = {"message": step.message or f"scripted {step.code}", "type": "fake_error", "param": None, "code": None}
    return JSONResponse({"error": error}, status_code=step.code, headers=headers)


def _completion(body: dict[str, Any], content: str, usage: dict[str, int]) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-fake-{int(time.time() * 1000)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake-model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": usage,
    }
