"""Durations as people write them, in every place they write one: a rollout plan's steps
and watch, the policy's ``[sla]``, a metric's window.

The grammar (case does not matter, spaces around and between parts are allowed)::

    duration = part { part }          "7d", "1h30m", "1h 30m", "2w", "1.5d", "0s"
    part     = number unit
    number   = digits [ "." digits ]   a decimal point, no exponent, no sign
    unit     = "w" | "d" | "h" | "m" | "s"   weeks, days, hours, minutes, seconds

Parts add up, in any order. A duration is at most ``LONGEST`` (about a hundred years:
beyond that, a deadline falls off the calendar) and its text at most ``MAX_TEXT``
characters; it is exact to the microsecond (finer fractions are rounded). Where the
input is JSON (a plan), a number counts seconds.

    parse_duration(value, longest=LONGEST) -> timedelta   ValueError names what was given
                                                          and shows an example
    format_duration(span) -> str                          the shortest exact text:
                                                          parse_duration(format_duration(t)) == t
    describe_duration(span) -> str                        rounded, for sentences: "3d 4h"

Errors::

    ValueError                 not a duration (``"a week"``, ``"7"``, ``True``)
      DurationOutOfRange       a duration, but negative or longer than allowed
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from fractions import Fraction
from functools import lru_cache

__all__ = [
    "LONGEST",
    "MAX_TEXT",
    "DurationOutOfRange",
    "describe_duration",
    "format_duration",
    "parse_duration",
]

LONGEST = timedelta(days=36_525)  # a hundred years
MAX_TEXT = 64  # characters: "1w 2d 3h 4m 5.5s" is 16

_MICROSECONDS = {"w": 604_800_000_000, "d": 86_400_000_000, "h": 3_600_000_000}
_MICROSECONDS |= {"m": 60_000_000, "s": 1_000_000}
_WHOLE = re.compile(r"\s*(-\s*)?((?:\d+(?:\.\d+)?\s*[wdhms]\s*)+)", re.IGNORECASE)
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])", re.IGNORECASE)
_EXAMPLE = "expected a duration like '7d', '12h' or '1h30m'"


class DurationOutOfRange(ValueError):
    """A well-written duration that is negative or longer than the place allows."""


def parse_duration(value: object, *, longest: timedelta = LONGEST) -> timedelta:
    """``value`` (text in the grammar above, or a number of seconds) as a timedelta of at
    most ``longest``. Raises ValueError (DurationOutOfRange when only the size is wrong)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{_EXAMPLE}, got {value!r}")
    if isinstance(value, str):
        micro = _text_microseconds(value)
    elif not math.isfinite(value):
        raise ValueError(f"expected a finite duration, got {value!r}")
    else:
        micro = round(Fraction(value) * 1_000_000)
    if micro < 0:
        raise DurationOutOfRange(f"must not be negative, got {value!r}")
    if micro > longest // timedelta(microseconds=1):
        raise DurationOutOfRange(f"at most {_longest_words(longest)}, got {value!r}")
    return timedelta(microseconds=micro)


def _text_microseconds(text: str) -> int:
    if len(text) > MAX_TEXT:
        raise ValueError(f"{_EXAMPLE}, got {len(text)} characters (at most {MAX_TEXT})")
    whole = _WHOLE.fullmatch(text)
    if not whole:
        raise ValueError(f"{_EXAMPLE}, got {text!r}")
    micro = round(  # Fraction only for decimals: exact, and whole numbers stay fast
        sum(
            (Fraction(amount) if "." in amount else int(amount)) * _MICROSECONDS[unit.lower()]
            for amount, unit in _PART.findall(whole.group(2))
        )
    )
    return -micro if whole.group(1) else micro


def _longest_words(longest: timedelta) -> str:
    return {timedelta(days=366): "a year", LONGEST: "a hundred years"}.get(
        longest, format_duration(longest)
    )


def format_duration(span: timedelta) -> str:
    """``span`` as the shortest text in the grammar that reads back exactly: whole numbers
    of units, largest first, each unit at most once ("1d", not "24h"; "36h", not
    "1d12h"; "7d61m", not "1w1h1m"); only seconds carry a fraction ("1.5s"). Of two forms
    as short, the one that uses smaller units ("7d", not "1w"). Zero is "0s"."""
    total = span // timedelta(microseconds=1)
    if total < 0:
        raise ValueError(f"a duration is never negative, got {span!r}")
    return _format(total) if total else "0s"


@lru_cache(maxsize=1024)  # plans repeat a few durations (the defaults) many times over
def _format(total: int) -> str:
    best = ""
    for used in _UNIT_CHOICES:
        rest, text = total, ""
        for unit, size in used:
            amount, rest = divmod(rest, size)
            text += f"{amount}{unit}" if amount else ""
        text += _seconds(rest) if rest else ""
        if not best or len(text) < len(best):
            best = text
    return best


# Every choice of the whole units (w, d, h, m) a text may use, each filled as full as it
# goes, largest first; seconds take the rest. Trying all 16 finds the shortest text
# (checked against a search that also tries amounts short of full, on 200,000 durations).
# Choices without the larger units come first, so a tie goes to the smaller units.
_WHOLE_UNITS = tuple(_MICROSECONDS.items())[:-1]  # w, d, h, m
_UNIT_CHOICES = tuple(  # mask bit 3 is weeks, bit 0 minutes: counting up, larger units last
    tuple(unit for n, unit in enumerate(_WHOLE_UNITS) if mask >> (len(_WHOLE_UNITS) - 1 - n) & 1)
    for mask in range(1 << len(_WHOLE_UNITS))
)


def _seconds(micro: int) -> str:
    whole, fraction = divmod(micro, 1_000_000)
    return f"{whole}.{fraction:06d}".rstrip("0").rstrip(".") + "s"


def describe_duration(span: timedelta) -> str:
    """``span`` rounded down to its two largest units, for sentences ("3d 4h left");
    nothing left (or less than nothing) is "0s"."""
    seconds = int(span.total_seconds())
    if seconds <= 0:
        return "0s"
    parts: list[str] = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return " ".join(parts[:2])
