"""Moments people type: a duration from now (``90d``, ``12h``, ``2w``, ``30m``) or an ISO
8601 date or time (UTC unless it says otherwise). ``token create --expires`` counts
forwards, ``audit list --since`` backwards."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from shipwise.cli.output import fail

_DURATION = re.compile(r"^(\d{1,6})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def moment(text: str | None, option: str, *, past: bool = False) -> datetime | None:
    """``text`` (given as ``option``) as an aware datetime; a duration counts back from
    now when ``past``. Anything else exits 2 with an example."""
    if text is None:
        return None
    example = "24h, 7d, 2w" if past else "90d, 12h, 2w"
    problem = f"{option} {text!r} is neither a duration ({example}) nor a date (2027-01-31)"
    duration = _DURATION.match(text.strip())
    try:
        if duration:
            amount, unit = duration.groups()
            delta = timedelta(**{_UNITS[unit]: int(amount)})
            return datetime.now(UTC) + (-delta if past else delta)
        found = datetime.fromisoformat(text.strip())
    except ValueError:
        fail(problem)
    except OverflowError:
        fail(f"{option} {text!r} is beyond the calendar", hint=f"Try a duration such as {example}.")
    return found if found.tzinfo else found.replace(tzinfo=UTC)
