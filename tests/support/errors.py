"""Assertions on the contract's error answers (CONTRACT §3)."""

from __future__ import annotations

from typing import Any

import httpx


def assert_error(answer: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The answer has ``status`` and the error body ``{"error": {"code", "message", "details"}}``."""
    assert answer.status_code == status, f"{answer.request.method} {answer.request.url}: {answer.status_code} {answer.text}"
    body = answer.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["message"], str) and isinstance(error["details"], dict)
    if code is not None:
        assert error["code"] == code, error
    return error
