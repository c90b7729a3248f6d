"""The "Who gets this?" form: a context (userId, sessionId, remoteAddress and up to
``MAX_PROPERTIES`` named properties) read from the query string, or the fields that are
wrong, each with its message.

The query carries properties as repeated ``name``/``value`` pairs, in the form's order;
a row left empty is ignored. Lengths follow the engine: a value longer than
``MAX_CONTEXT_VALUE_LENGTH`` could match no constraint, so the form says so rather than
explain a non-answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shipwise.engine.context import MAX_CONTEXT_VALUE_LENGTH
from shipwise.engine.limits import MAX_NAME_LENGTH

MAX_PROPERTIES = 10
ROOT_FIELDS = ("userId", "sessionId", "remoteAddress")
# Names the engine reads from the context itself, not from its properties.
_RESERVED = frozenset({*ROOT_FIELDS, "environment", "appName", "currentTime", "properties"})


@dataclass(frozen=True, slots=True)
class PropertyRow:
    name: str
    value: str


@dataclass
class WhoQuery:
    """What the form shows (as typed) and, when nothing is wrong, the context."""

    fields: dict[str, str] = field(default_factory=dict)
    properties: list[PropertyRow] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    asked: bool = False  # whether the form was sent at all

    def context(self) -> dict[str, Any]:
        context: dict[str, Any] = {k: v for k, v in self.fields.items() if v}
        context["properties"] = {p.name: p.value for p in self.properties if p.name}
        return context

    def blank_rows(self) -> int:
        """Empty property rows to offer, so a page without script can add two more."""
        return max(0, min(2, MAX_PROPERTIES - len(self.properties)))


def _too_long(value: str) -> bool:
    return len(value) > MAX_CONTEXT_VALUE_LENGTH


def read_who(items: Iterable[tuple[str, str]]) -> WhoQuery:
    """The form's answer from the query's ``(key, value)`` pairs."""
    query = WhoQuery()
    names: list[str] = []
    values: list[str] = []
    for key, value in items:
        if key in ROOT_FIELDS:
            query.fields[key] = value.strip()
            query.asked = True
        elif key == "name":
            names.append(value.strip())
        elif key == "value":
            values.append(value)
    for key, value in query.fields.items():
        if _too_long(value):
            query.errors[key] = f"at most {MAX_CONTEXT_VALUE_LENGTH:,} characters"
    values += [""] * (len(names) - len(values))
    names += [""] * (len(values) - len(names))
    rows = [PropertyRow(n, v) for n, v in zip(names, values, strict=True) if n or v]
    query.asked = query.asked or bool(rows)
    query.properties = rows
    if len(rows) > MAX_PROPERTIES:
        query.errors["name"] = f"at most {MAX_PROPERTIES} properties; {len(rows)} were sent"
        return query
    seen: set[str] = set()
    for index, row in enumerate(rows, start=1):
        problem = _property_problem(row, seen)
        if problem:
            query.errors[f"name-{index}"] = problem
        seen.add(row.name)
    return query


def _property_problem(row: PropertyRow, seen: set[str]) -> str | None:
    if not row.name:
        return "name this property (the value has no name)"
    if len(row.name) > MAX_NAME_LENGTH:
        return f"a property name has at most {MAX_NAME_LENGTH} characters"
    if row.name in _RESERVED:
        return f"{row.name!r} is a field of the context itself, not a property"
    if row.name in seen:
        return f"{row.name!r} is named twice"
    if _too_long(row.value):
        return f"the value of {row.name!r} has more than {MAX_CONTEXT_VALUE_LENGTH:,} characters"
    return None
