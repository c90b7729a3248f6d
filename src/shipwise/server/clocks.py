"""Clocks the server can run on. Real time by default; an accelerated clock for
simulations and tests of week-long rollouts: simulated time starts at ``start`` when
the wall clock reads ``origin`` and runs ``speed`` times faster. Because ``origin`` is
a fixed wall-clock moment, a process restarted with the same three values carries on
the same simulated timeline (a killed runner resumes where the plan is, not at day 0)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


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


# ``serve --demo``: a week of the default rollout plan's steps passes in a minute, so a
# newcomer watches a step advance; the plan itself keeps its real, week-long steps.
DEMO_SPEED = 7 * 24 * 60.0


def describe_speed(speed: float) -> str:
    """How much simulated time a minute of wall time holds: "1 week = 1 minute"."""
    minutes_per_week = 7 * 24 * 60 / speed
    if minutes_per_week >= 1:
        return f"1 week = {minutes_per_week:g} minute{'' if minutes_per_week == 1 else 's'}"
    return f"1 minute = {speed:g} minutes"


def persisted_clock(path: Path, speed: float) -> AcceleratedClock:
    """An accelerated clock whose timeline outlives the process: its start and origin are
    kept in ``path`` (made on first use), so a restart carries on where the store's
    times are instead of going back to the wall clock's now (a plan's step would then
    have begun in the future). The timeline runs on while the process is stopped, as
    ``AcceleratedClock``'s does. A new ``speed`` continues from the moment reached."""
    try:
        saved = json.loads(path.read_text())
        clock = AcceleratedClock(
            datetime.fromisoformat(saved["start"]), float(saved["speed"]), float(saved["origin"])
        )
    except FileNotFoundError:
        clock = AcceleratedClock(system_clock(), speed)
    except (ValueError, KeyError, TypeError) as problem:
        raise ValueError(f"{path} is not a clock Shipwise wrote ({problem}); remove it") from None
    if clock.speed != speed:
        clock = AcceleratedClock(clock(), speed)
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = {"start": clock.start.isoformat(), "speed": clock.speed, "origin": clock.origin}
    path.write_text(json.dumps(kept) + "\n")
    return clock
