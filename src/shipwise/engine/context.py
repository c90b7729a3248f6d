"""Reading fields out of an evaluation context.

A context is a plain dict with the Unleash field names: ``userId``, ``sessionId``,
``remoteAddress``, ``environment``, ``appName``, ``currentTime`` and a ``properties``
dict for everything else. Applications pass what they have, so the readers here are
forgiving: a standard field may also sit in ``properties``, a custom one at the top
level, and non-string values are read as their text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Context = Mapping[str, Any]
FieldReader = Callable[[Context], str | None]

STANDARD_FIELDS = frozenset(
    {"userId", "sessionId", "remoteAddress", "environment", "appName", "currentTime"}
)
EMPTY_CONTEXT: Context = {}


def as_text(value: object) -> str | None:
    """The text of a context value, as JavaScript SDKs would see it."""
    if value is None or value.__class__ is str:
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _properties(context: Context) -> Mapping[str, Any]:
    properties = context.get("properties")
    return properties if isinstance(properties, Mapping) else EMPTY_CONTEXT


def field_reader(name: str) -> FieldReader:
    """A function reading ``name`` from a context; None when absent or empty."""
    if name in STANDARD_FIELDS:

        def read_standard(context: Context) -> str | None:
            value = context.get(name)
            if value is None or value == "":
                value = _properties(context).get(name)
            return None if value == "" else as_text(value)

        return read_standard

    def read_custom(context: Context) -> str | None:
        properties = context.get("properties")
        value = properties.get(name) if properties else None
        if value is None:
            value = context.get(name)
        return None if value == "" else as_text(value)

    return read_custom
