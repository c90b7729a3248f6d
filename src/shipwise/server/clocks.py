"""Clocks the server can run on. Real time by default; an accelerated clock for
simulations and tests of week-long rollouts: simulated time starts at ``start`` when
the wall clock reads ``origin`` and runs ``speed`` times faster. Because ``origin`` is
a fixed wall-clock moment, a process restarted with the same three values carries on
the same simulated timeline (a killed runner resumes where the plan is, not at day 0)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


def system_clock() -> datetime:
    return datetime.now(UTC)


class AcceleratedClock:
    def __init__(self, start: datetime, speed: float, origin: float | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"the clock speed must be positive, got {speed}")
        self.start = start if start.tzinfo else start.replace(tzinfo=UTC)
        self.speed = speed
        self.origin = time.time() if origin is None else origin

    def __call__(self) -> datetime:
        elapsed = (time.time() - self.origin) * self.speed
        return self.start + timedelta(seconds=elapsed)
