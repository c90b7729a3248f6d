"""When a daily digest goes: the first HH:MM in the policy's time zone after an event,
across the changes of daylight saving time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shipwise.domain.digests import DigestKind, digest_day, next_digest_at, time_of_day


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("heard", "at", "zone", "sent"),
    [
        (_utc(2027, 3, 2, 15, 0), "09:00", "Europe/Berlin", _utc(2027, 3, 3, 8, 0)),
        (_utc(2027, 3, 2, 7, 59), "09:00", "Europe/Berlin", _utc(2027, 3, 2, 8, 0)),
        (_utc(2027, 3, 2, 8, 0), "09:00", "Europe/Berlin", _utc(2027, 3, 3, 8, 0)),
        (_utc(2027, 3, 27, 12, 0), "09:00", "Europe/Berlin", _utc(2027, 3, 28, 7, 0)),
        (_utc(2027, 10, 30, 12, 0), "09:00", "Europe/Berlin", _utc(2027, 10, 31, 8, 0)),
        (_utc(2027, 3, 2, 23, 30), "08:30", "America/New_York", _utc(2027, 3, 3, 13, 30)),
    ],
    ids=[
        "afternoon-next-morning",
        "before-nine-same-day",
        "at-nine-next-day",
        "spring-forward",
        "fall-back",
        "new-york",
    ],
)
def test_next_digest_at__is_the_first_time_of_day_after_the_event_in_the_zone(
    heard: datetime, at: str, zone: str, sent: datetime
) -> None:
    assert next_digest_at(heard, at, zone) == sent


def test_digest_day__is_the_date_in_the_zone() -> None:
    assert digest_day(datetime(2027, 3, 2, 23, 30, tzinfo=UTC), "Europe/Berlin") == "2027-03-03"


@pytest.mark.parametrize("text", ["9", "24:00", "09:60", "9:00am", ""])
def test_time_of_day__not_hh_mm__is_refused_saying_the_form(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        time_of_day(text)


def test_digest_kind__unknown__names_the_ones_there_are() -> None:
    with pytest.raises(ValueError, match="one of daily"):
        DigestKind.named("weekly")
