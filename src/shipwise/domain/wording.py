"""How release decisions put things in words: lists of names, approver roles, commits,
moments and business-hours windows, the same way in every gate, notice and PR body.

Pure string building. ``text.py`` is the other half of text: what a name may hold and
how to show stored text safely; this module only phrases values the domain already has.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from shipwise.domain.policy_model import Window
from shipwise.domain.releases import ApproverRole

__all__ = [
    "WEEKDAYS",
    "first_line",
    "moment",
    "names",
    "roles",
    "short_commit",
    "window_hours",
]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ROLE_LABEL = {
    ApproverRole.CODE_OWNER: "code-owner",
    ApproverRole.QA: "QA",
    ApproverRole.RELEASE_MANAGER: "release-manager",
}
_FIRST_LINE = 80  # characters of a justification quoted in a gate's detail


def names(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``; "nobody" for none."""
    if len(items) <= 1:
        return "".join(items) or "nobody"
    return f"{', '.join(items[:-1])} and {items[-1]}"


def roles(held: Collection[ApproverRole], joiner: str = "or") -> str:
    """Roles in their fixed order: "code-owner, QA or release-manager"; "" for none."""
    labels = [_ROLE_LABEL[r] for r in ApproverRole if r in held]
    if len(labels) <= 1:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} {joiner} {labels[-1]}"


def short_commit(commit: str) -> str:
    """The 12 characters people recognise a commit by."""
    return commit.strip()[:12]


def first_line(text: str) -> str:
    """The first line, cut to 80 characters with "..." when longer."""
    line = text.splitlines()[0]
    return line if len(line) <= _FIRST_LINE else f"{line[: _FIRST_LINE - 3]}..."


def moment(when: datetime, zone: ZoneInfo) -> str:
    """``Mon 2026-03-02 10:00 Europe/Oslo``: the day too, since windows are weekly."""
    local = when.astimezone(zone)
    return f"{WEEKDAYS[local.weekday()]} {local:%Y-%m-%d %H:%M} {zone.key}"


def window_hours(window: Window, timezone: str) -> str:
    """``Mon-Fri 09:00-17:00 UTC``; days that do not run on are listed one by one."""
    days = sorted(window.weekdays)
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        span = f"{WEEKDAYS[days[0]]}-{WEEKDAYS[days[-1]]}"
    else:
        span = ", ".join(WEEKDAYS[d] for d in days) or "no days"
    return f"{span} {window.start:%H:%M}-{window.end:%H:%M} {timezone}"
