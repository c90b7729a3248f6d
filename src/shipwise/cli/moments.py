"""Moments people type: a duration from now in the one duration grammar
(``shipwise.domain.durations``: ``90d``, ``12h``, ``1h30m``, ``1.5d``) or an ISO 8601 date
or time (UTC unless it says otherwise). ``token create --expires`` counts forwards,
``audit list --since`` backwards."""

from __future__ import annotations

from datetime import UTC, datetime

from shipwise.cli.output import fail
from shipwise.domain.durations import DurationOutOfRange, parse_duration


def moment(text: str | None, option: str, *, past: bool = False) -> datetime | None:
    """``text`` (given as ``option``) as an aware datetime; a duration counts back from
    now when ``past``. Anything else exits 2 with an example."""
    if text is None:
        return None
    example = "24h, 7d, 2w" if past else "90d, 12h, 2w"
    try:
        delta = parse_duration(text.strip())
    except DurationOutOfRange as error:
        # A duration, but negative or past the grammar's hundred years: say so, rather
        # than "neither a duration nor a date".
        fail(f"{option}: {error}", hint=f"Try a duration such as {example}.")
    except ValueError:
        pass  # not a duration: perhaps a date
    else:  # at most a hundred years: now plus or minus that stays on the calendar
        return datetime.now(UTC) + (-delta if past else delta)
    try:
        found = datetime.fromisoformat(text.strip())
    except ValueError:
        fail(f"{option} {text!r} is neither a duration ({example}) nor a date (2027-01-31)")
    return found if found.tzinfo else found.replace(tzinfo=UTC)
