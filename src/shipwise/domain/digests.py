"""Digests: a subscription that sends its (email) channel one message a day listing the
events it heard, instead of one message per event.

Pure: when the next digest goes out is a function of the event's time, the time of day
and the policy's time zone, all given.

    next_digest_at(datetime(2027, 3, 2, 15, 0, tzinfo=UTC), "09:00", "Europe/Berlin")
    -> 2027-03-03 08:00 UTC (09:00 in Berlin the next morning)
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_AT = "09:00"
_TIME_OF_DAY = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


class DigestKind(enum.StrEnum):
    DAILY = "daily"

    @classmethod
    def named(cls, name: str) -> DigestKind:
        """The digest called ``name``, or ``ValueError`` naming the ones there are."""
        try:
            return cls(name)
        except ValueError:
            choices = ", ".join(k.value for k in cls)
            raise ValueError(f"unknown digest {name!r}; one of {choices}") from None


def time_of_day(text: str) -> time:
    """``"09:00"`` as a time, or ``ValueError`` saying the form (24-hour ``HH:MM``)."""
    found = _TIME_OF_DAY.match(text.strip())
    if found is None:
        raise ValueError(f"a digest's time is HH:MM on a 24-hour clock (09:00), got {text!r}")
    return time(int(found[1]), int(found[2]))


def next_digest_at(after: datetime, at: str, timezone: str) -> datetime:
    """The first ``at`` o'clock in ``timezone`` strictly after ``after``, in UTC: an event
    heard at 09:00 sharp goes in the next day's digest, not one already being sent.

    A time the clocks skip (spring forward) is read as the wall time shifted forward
    by the gap, a time they repeat (fall back) as its first occurrence: zoneinfo's
    ``fold=0`` rule."""
    zone = ZoneInfo(timezone)
    local = after.astimezone(zone)
    wanted = time_of_day(at)
    today = datetime.combine(local.date(), wanted, tzinfo=zone).astimezone(UTC)
    if today > after:
        return today
    # Tomorrow's is at least 23 hours after today's (a DST change): always after ``after``.
    tomorrow = local.date() + timedelta(days=1)
    return datetime.combine(tomorrow, wanted, tzinfo=zone).astimezone(UTC)


def digest_day(sent_at: datetime, timezone: str) -> str:
    """The date a digest is sent on, in the policy's time zone (``2027-03-03``)."""
    return sent_at.astimezone(ZoneInfo(timezone)).date().isoformat()
