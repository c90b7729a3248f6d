"""Reading fields out of an evaluation context.

A context is a plain dict with the Unleash field names: ``userId``, ``sessionId``,
``remoteAddress``, ``environment``, ``appName``, ``currentTime`` and a ``properties``
dict for everything else. Applications pass what they have, so the readers here are
forgiving: a standard field may also sit in ``properties``, a custom one at the top
level, and non-string values are read as their text.

A value longer than ``MAX_CONTEXT_VALUE_LENGTH`` characters satisfies no constraint,
whatever its operator and whether the constraint is inverted or not: so the work of one
constraint is bounded (a ``REGEX`` costs at worst about the value's length times the
pattern's size), and an oversized value can neither turn a strategy on nor slip past a
``NOT_IN`` or an inverted constraint, as a missing value would. Rollouts and variants
still hash the whole value (hashing is linear and every SDK must agree on the bucket).
``describe_value`` shows a value in an explanation, saying when it is oversized.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from shipwise.engine.limits import MAX_VALUE_LENGTH

Context = Mapping[str, Any]
FieldReader = Callable[[Context], str | None]

STANDARD_FIELDS = frozenset(
    {"userId", "sessionId", "remoteAddress", "environment", "appName", "currentTime"}
)
EMPTY_CONTEXT: Context = {}

# Characters; as long as a rule's value may be, so a value any rule can name fits.
MAX_CONTEXT_VALUE_LENGTH = MAX_VALUE_LENGTH
_SHOWN = 40  # characters of an oversized value an explanation quotes
_SURROGATE = re.compile("[\ud800-\udfff]")  # one class, no repetition: linear
_REPLACEMENT = "\ufffd"


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


def oversized(text: str | None) -> bool:
    """Whether ``text`` is too long for any constraint to match it."""
    return text is not None and len(text) > MAX_CONTEXT_VALUE_LENGTH


def describe_value(text: str | None) -> str:
    """``text`` for an explanation: quoted, or, when oversized, its start and why no
    constraint matched it."""
    if text is None or not oversized(text):
        return repr(text)
    return (
        f"{text[:_SHOWN]!r}… ({len(text):,} characters, over the limit of "
        f"{MAX_CONTEXT_VALUE_LENGTH:,}: no constraint matches it)"
    )


def utf8(text: str) -> bytes:
    """``text`` as UTF-8, each lone surrogate replaced by U+FFFD, the replacement
    character. A Python string (or a JSON ``"\\ud800"`` escape) can hold a surrogate,
    which has no UTF-8 form: where text must be UTF-8 (RE2, JSON sent to a server),
    it becomes U+FFFD instead of raising ``UnicodeEncodeError``."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # surrogates are the only code points UTF-8 cannot encode
        return _SURROGATE.sub(_REPLACEMENT, text).encode("utf-8")
