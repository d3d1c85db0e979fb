"""Body fields take JSON's types as the OpenAPI schema states them: no boolean or text
coerced into a number (schemathesis found `false` accepted as a delay), and 2.0 still an integer."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.api.entrypoints.routes.config import ConfigUpdate
from services.api.entrypoints.routes.planner import KeywordIn

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("body", [
    {"between_stage_delay": False}, {"within_stage_delay": "3"}, {"stage_1_batch_size": True},
    {"stage_2_batch_size": "4"}, {"stage_3_batch_size": 2.5}, {"is_enabled": "true"}, {"is_enabled": 1},
])
def test_config_refuses_what_its_schema_refuses(body: dict) -> None:
    with pytest.raises(ValidationError):
        ConfigUpdate.model_validate(body)


@pytest.mark.parametrize("body", [{"keyword": "k", "volume": True}, {"keyword": "k", "difficulty": "5"}])
def test_keywords_refuse_what_their_schema_refuses(body: dict) -> None:
    with pytest.raises(ValidationError):
        KeywordIn.model_validate(body)


def test_integral_numbers_are_integers_as_json_schema_says() -> None:
    assert ConfigUpdate.model_validate({"stage_1_batch_size": 3.0, "within_stage_delay": 2}).stage_1_batch_size == 3
    assert KeywordIn.model_validate({"keyword": "k", "volume": 5.0}).volume == 5
