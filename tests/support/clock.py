"""A clock tests set by hand: the server's services read the time from it, so a test can
stand in business hours, at night or inside a freeze without waiting."""

from __future__ import annotations

from datetime import datetime, timedelta


class ManualClock:
    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("give the clock a timezone-aware time")
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
