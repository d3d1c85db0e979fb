"""The API's one error mapping (services/api/entrypoints/errors.py), on a bare app with a few test routes.

An unexpected exception cannot be provoked legitimately on the running API, so the 500
answer is checked here: the contract's error body, and no trace of the exception."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient

from services.api.entrypoints.errors import ApiError, install_error_handlers

pytestmark = pytest.mark.unit
SECRET = "secret-internal-detail-xyz"


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError(SECRET)

    @app.get("/refused")
    async def refused() -> dict[str, str]:
        raise ApiError(400, "invalid_transition", "cannot pause a run that is completed", {"status": "completed"})

    @app.get("/typed")
    async def typed(limit: Annotated[int, Query(ge=1)]) -> dict[str, int]:
        return {"limit": limit}

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(_app(), raise_server_exceptions=False)


def test_an_unexpected_exception_is_a_500_with_the_error_body_and_no_trace(client: TestClient) -> None:
    answer = client.get("/boom")
    assert answer.status_code == 500
    assert answer.json() == {"error": {"code": "internal_error", "message": "an unexpected error occurred",
                                       "details": {}}}
    for leak in (SECRET, "Traceback", "RuntimeError", "File \"", ".py"):
        assert leak not in answer.text


def test_an_api_error_keeps_its_status_code_and_details(client: TestClient) -> None:
    answer = client.get("/refused")
    assert answer.status_code == 400
    assert answer.json()["error"] == {"code": "invalid_transition", "message": "cannot pause a run that is completed",
                                      "details": {"status": "completed"}}


@pytest.mark.parametrize("query", ["", "?limit=0", "?limit=abc", "?limit=1.5"])
def test_validation_errors_are_400_invalid_request_never_422(client: TestClient, query: str) -> None:
    answer = client.get(f"/typed{query}")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"]["problems"][0]["field"] == "query.limit"


def test_unknown_paths_and_methods_get_the_error_body(client: TestClient) -> None:
    assert client.get("/nowhere").json()["error"]["code"] == "not_found"
    answer = client.post("/typed?limit=1")
    assert answer.status_code == 405 and answer.json()["error"]["code"] == "method_not_allowed"
