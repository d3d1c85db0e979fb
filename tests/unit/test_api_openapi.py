"""The OpenAPI document says what the API does: no 422, the contract's error body, response models."""

from __future__ import annotations

import pytest

from services.api.entrypoints.app import create_app
from shared.infra.settings import Settings

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def document() -> dict:
    return create_app(Settings()).openapi()  # builds the document only; nothing connects


def _operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_no_operation_documents_fastapis_422(document: dict) -> None:
    assert all("422" not in op["responses"] for _, op in _operations(document))
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_every_api_operation_documents_its_errors_with_the_error_body(document: dict) -> None:
    for name, operation in _operations(document):
        if not name.split()[1].startswith("/api/"):
            continue
        for status in ("400", "401", "500"):
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, name


def test_every_success_answer_has_a_schema(document: dict) -> None:
    for name, operation in _operations(document):
        success = [s for s in operation["responses"] if s.startswith("2")]
        assert len(success) == 1, name
        content = operation["responses"][success[0]]["content"]
        schema = next(iter(content.values()))["schema"]
        assert schema.get("$ref") or schema.get("type") == "string", name
