"""What a variant payload stands for, read one way for every consumer.

A payload travels as text with a type (the Unleash specification's ``string``, ``json``,
``csv``, ``number``); whoever serves it typed (OFREP, the OpenFeature provider) must read
it. This module is the strict reading: a ``number`` is a plain decimal that every
language parses to the same finite value, a ``json`` payload is JSON (no ``NaN``),
nested at most ``limits.MAX_PAYLOAD_DEPTH`` deep. The server accepts only payloads that
read here, so a typed evaluation of what it serves cannot fail on them.
"""

from __future__ import annotations

import json
import math
import re

from shipwise.engine import limits
from shipwise.engine.model import Payload

PAYLOAD_TYPES = ("string", "json", "csv", "number")
"""The payload types of the Unleash specification."""

# A number every SDK reads the same way: decimal, ASCII digits, optional exponent (no
# "0x10", "1_000", "Infinity" or Arabic-Indic digits, which languages read differently).
_NUMBER = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*", re.ASCII)
_INTEGER = re.compile(r"\s*[-+]?\d+\s*", re.ASCII)


class PayloadError(ValueError):
    """A payload's value is not of its type; the message says why, without the field."""


def short(text: str) -> str:
    """``text`` quoted for a message, cut to a readable length."""
    return repr(text if len(text) <= 40 else text[:40] + "…")


def number_problem(text: str) -> str | None:
    """Why ``text`` is not a number every SDK reads alike, if it is not."""
    if _NUMBER.fullmatch(text) is None:
        return f"{short(text)} is not a number; write it like 42 or -1.5e3"
    if not math.isfinite(float(text)):
        return f"{short(text)} is not a finite number; use a smaller one"
    return None


def payload_value(payload: Payload) -> object:
    """What a payload stands for: parsed JSON, an int or float, or the text itself.
    Raises ``PayloadError`` when a ``json`` or ``number`` payload is not one."""
    text = payload.value
    if payload.type == "number":
        problem = number_problem(text)
        if problem is not None:
            raise PayloadError(problem)
        return int(text) if _INTEGER.fullmatch(text) else float(text)
    if payload.type != "json":
        return text
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise PayloadError(_too_deep()) from None
    except ValueError as error:
        raise PayloadError(f"is not JSON ({error}); send the JSON text as a string") from None
    if _depth(value) > limits.MAX_PAYLOAD_DEPTH:
        raise PayloadError(_too_deep())
    return value


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON value")


def _too_deep() -> str:
    return f"is JSON nested deeper than {limits.MAX_PAYLOAD_DEPTH} levels; flatten it"


def _depth(value: object) -> int:
    """How deeply arrays and objects nest in ``value`` (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item)
    return deepest


__all__ = ["PAYLOAD_TYPES", "PayloadError", "number_problem", "payload_value", "short"]
