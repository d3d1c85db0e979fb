"""Body fields that take JSON's types as the schema states them, no more.

Pydantic's lax mode would turn `false` into 0 and "5" into 5, which the schema's `integer`
and `number` don't allow; strict mode would refuse 2.0, which JSON Schema counts as an
integer. These refuse booleans and text and keep the rest of lax mode.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field


def _a_json_number(value: Any) -> Any:
    if isinstance(value, (bool, str)):
        raise ValueError("must be a JSON number, not a boolean or a string")
    return value


def json_int(**constraints: Any) -> Any:
    """An integer field with these `Field` constraints (placed first, so the schema shows them)."""
    return Annotated[int, Field(**constraints), BeforeValidator(_a_json_number)]


def json_number(**constraints: Any) -> Any:
    return Annotated[float, Field(**constraints), BeforeValidator(_a_json_number)]


JsonBool = Annotated[bool, Field(strict=True)]
