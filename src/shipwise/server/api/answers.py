"""Answer models filled from the services' records, field by field of the same name, so
a model lists its fields once (its class body) instead of once more in a copy."""

from __future__ import annotations

from dataclasses import fields
from typing import Any


def fields_of(*records: Any, **more: Any) -> dict[str, Any]:
    """The fields of the dataclass ``records`` by name (a later record's win), then
    ``more``; an answer model validates them, ignoring the ones it does not have."""
    result: dict[str, Any] = {}
    for record in records:
        result |= {field.name: getattr(record, field.name) for field in fields(record)}
    return result | more
