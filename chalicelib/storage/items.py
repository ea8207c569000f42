"""Conversion between Python values and DynamoDB's attribute-value JSON.

boto3's converters are imported on first use, not at import time: importing
anything from boto3 loads botocore (~90 ms), which would land on every cold
start even for requests that never reach DynamoDB.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any


@functools.cache
def _converters() -> tuple[Any, Any]:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """Serialise a plain dict, dropping ``None`` values (DynamoDB has no use for them)."""
    serializer = _converters()[0]
    return {k: serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """Deserialise an item; numbers come back as ``int`` when integral."""
    deserializer = _converters()[1]
    return {k: _plain(deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return {_plain(v) for v in value}
    return value
