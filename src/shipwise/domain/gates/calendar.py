"""Gates about when: business hours and freeze periods, in the policy's time zone. The
hotfix path bypasses both (an outage does not wait for Monday) and reports them, marked
bypassed, so the audit record shows what was skipped."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shipwise.domain import commands
from shipwise.domain.gates.gate import Gate, Item, Judged, Judging, Where, no, ok
from shipwise.domain.policy_model import Window
from shipwise.domain.wording import moment, window_hours

__all__ = ["BUSINESS_HOURS", "FREEZE"]

_WEEK = 8  # days to look ahead for the next opening: a weekly window opens within them


def _hours(judging: Judging, _item: Item) -> Judged:
    window, local, zone = judging.policy.window, judging.now, judging.zone
    hours, now = window_hours(window, zone.key), moment(local, zone)
    if local.weekday() in window.weekdays and window.start <= local.time() < window.end:
        return ok(f"{now} is within business hours ({hours})")
    opening = _next_opening(window, local, zone)
    if opening is None:
        remedy = f"the policy's window ({hours}) allows no time at all: fix [window] in it"
        remedy += f" and apply it: {commands.apply_policy(judging.release)}"
    else:
        remedy = f"promote within business hours ({hours}); the next window opens "
        remedy += moment(opening, zone) + f": {commands.promote(judging.release, judging.target)}"
    return no(f"{now} is outside business hours ({hours})", remedy)


def _next_opening(window: Window, local: datetime, zone: ZoneInfo) -> datetime | None:
    if not window.weekdays or window.start >= window.end:
        return None
    for offset in range(_WEEK):
        day = local.date() + timedelta(days=offset)
        opening = datetime.combine(day, window.start, tzinfo=zone)
        if day.weekday() in window.weekdays and opening > local:
            return opening
    return None


def _freeze(judging: Judging, _item: Item) -> Judged:
    """Freezes include their first and last day, in the project's time zone."""
    freezes, today = judging.policy.freezes, judging.now.date()
    active = [f for f in freezes if f.start <= today <= f.end]
    if not active:
        upcoming = sorted((f for f in freezes if f.start > today), key=lambda f: f.start)
        detail = f"no freeze on {today.isoformat()}"
        if upcoming:
            detail += f"; next: {upcoming[0].name!r} from {upcoming[0].start.isoformat()}"
        return ok(detail)
    reopen = today
    while covering := [f for f in freezes if f.start <= reopen <= f.end]:
        reopen = max(f.end for f in covering) + timedelta(days=1)
    names = "; ".join(f"{f.name!r} ({f.start.isoformat()} to {f.end.isoformat()})" for f in active)
    remedy = f"wait for the freeze to end: promotions reopen on {reopen.isoformat()}"
    remedy += f", then: {commands.promote(judging.release, judging.target)}"
    return no(f"{today.isoformat()} is in the freeze {names}", remedy)


def _describe_hours(where: Where, _item: Item) -> str | None:
    """The hotfix path bypasses it, so it asks for nothing there."""
    if where.hotfix:
        return None
    return f"during business hours ({window_hours(where.policy.window, where.policy.timezone)})"


def _describe_freeze(where: Where, _item: Item) -> str | None:
    return None if where.hotfix else "outside freeze periods"


BUSINESS_HOURS = Gate(
    "business-hours",
    "Business hours",
    applies=lambda where: where.stage.business_hours,
    describe=_describe_hours,
    judge=_hours,
    bypassable=True,
)
FREEZE = Gate(
    "freeze",
    "No freeze",
    applies=lambda where: where.stage.respect_freezes,
    describe=_describe_freeze,
    judge=_freeze,
    bypassable=True,
)
