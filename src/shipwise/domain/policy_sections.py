"""The sections of ``shipwise.toml`` other than the stages: ``timezone``,
``max_feature_rollouts``, ``[window]``, ``[[freeze]]``, ``[sla]``, ``[hotfix]``,
``[change_requests]``, and the approvals tables and branch names the stages share.

Each reader takes a ``policy_reading.Table`` and reports every problem it finds there
(each setting read on its own, so a mistake in one does not hide one in the next); a
setting it cannot read keeps the value it had before the file (the ``base``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from functools import cache, partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from shipwise.domain import policy_protection as protection
from shipwise.domain.durations import DurationOutOfRange, parse_duration
from shipwise.domain.policy_model import ApprovalRule, Freeze, HotfixPolicy, Window
from shipwise.domain.policy_reading import Table, listing, shown
from shipwise.domain.policy_toml import WEEKDAYS, clock_text
from shipwise.domain.releases import ApproverRole, Severity
from shipwise.engine.problems import closest, did_you_mean

__all__ = [
    "ANY_APPROVER",
    "read_approvals",
    "read_branch",
    "read_change_requests",
    "read_freezes",
    "read_hotfix",
    "read_max_rollouts",
    "read_sla",
    "read_timezone",
    "read_window",
]

ANY_APPROVER = frozenset(ApproverRole)
_WINDOW_KEYS = ("weekdays", "start", "end")
_FREEZE_KEYS = ("name", "start", "end")
_HOTFIX_KEYS = ("severities", "branch", "approvals", "require_justification", "label")
_APPROVAL_KEYS = ("count", "roles")
_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ROLES = tuple(role.value for role in ApproverRole)
_SEVERITIES = tuple(severity.value for severity in Severity)
_BRANCH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]*")
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?")
_CLOCK_GUESS = re.compile(r"(\d{1,2})(?:[:.h]?(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?", re.IGNORECASE)
_APPROVALS_EXAMPLE = '{ count = 1, roles = ["code-owner"] }'


def read_timezone(root: Table) -> str:
    name = root.text("timezone", '"Europe/Oslo"')
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        root.fail(
            "timezone",
            f'"{name}" is not a time zone; {did_you_mean(name, _zones())}write an IANA name '
            'such as "Europe/Oslo" or "UTC"',
        )
    return name


@cache
def _zones() -> list[str]:
    return sorted(available_timezones())


def read_max_rollouts(root: Table) -> int:
    count = root.integer("max_feature_rollouts", "1")
    if count < 1:
        root.fail(
            "max_feature_rollouts",
            f"{count} would stop every feature; write max_feature_rollouts = 1 or more",
        )
    return count


def read_window(section: Table, base: Window) -> Window:
    section.only(_WINDOW_KEYS)
    found = len(section.context.problems)
    weekdays = base.weekdays
    if section.has("weekdays"):
        weekdays = section.attempt(lambda: _read_weekdays(section), base.weekdays)
    start, end = base.start, base.end
    if section.has("start"):
        start = section.attempt(lambda: _read_time(section, "start"), base.start)
    if section.has("end"):
        end = section.attempt(lambda: _read_time(section, "end"), base.end)
    if start >= end and section.context.clean_since(found):
        blamed = "end" if section.has("end") or not section.has("start") else "start"
        section.fail(
            blamed,
            f'the window never opens: it starts at "{clock_text(start)}" and ends at '
            f'"{clock_text(end)}" (exclusive), the same day; write start = "09:00" and '
            'end = "17:00", with end later than start',
        )
    return Window(weekdays, start, end)


def _read_weekdays(section: Table) -> frozenset[int]:
    example = '["mon", "tue", "wed", "thu", "fri"]'
    names = section.texts("weekdays", example)
    if not names:
        section.fail("weekdays", f"is empty, so the window never opens; write weekdays = {example}")
    days: set[int] = set()
    for index, name in enumerate(names):
        day = name.strip().lower()
        number = (
            WEEKDAYS.index(day)
            if day in WEEKDAYS
            else _FULL_WEEKDAYS.index(day)
            if day in _FULL_WEEKDAYS
            else None
        )
        if number is None:
            guess = closest(day, WEEKDAYS + _FULL_WEEKDAYS)
            section.fail(
                f"weekdays[{index}]",
                f'"{name}" is not a day; {did_you_mean(guess[:3], WEEKDAYS) if guess else ""}'
                f"write one of {listing(WEEKDAYS)}",
            )
        if number in days:
            section.fail(f"weekdays[{index}]", f'"{name}" is listed twice; write each day once')
        days.add(number)
    return frozenset(days)


def _read_time(section: Table, name: str) -> time:
    value = section.data[name]
    if isinstance(value, time) and value.tzinfo is None and not value.microsecond:
        return value
    if isinstance(value, str) and (match := _TIME.fullmatch(value.strip())):
        hour, minute, second = match.groups()
        return time(int(hour), int(minute), int(second or 0))
    section.fail(name, f"{shown(value)} is not a time; write {_guess_clock(value)}")


def _guess_clock(value: object) -> str:
    """What the writer probably meant, as "HH:MM" ("9am" → "09:00"), or an example."""
    match = _CLOCK_GUESS.fullmatch(value.strip()) if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool):
        match = _CLOCK_GUESS.fullmatch(str(value))
    if match:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        meridiem = (match.group(3) or "").lower()[:1]
        if meridiem and 1 <= hour <= 12:
            hour = hour % 12 + (12 if meridiem == "p" else 0)
        if hour < 24 and minute < 60:
            return f'"{hour:02d}:{minute:02d}"'
    return 'a 24-hour time in quotes, like "09:00"'


def read_freezes(root: Table) -> tuple[Freeze, ...]:
    """Every ``[[freeze]]``; one with a problem is left out (and reported)."""
    example = "write a [[freeze]] table (double brackets) with name, start and end"
    freezes = []
    for section in root.tables("freeze", "[[freeze]]", example):
        freeze = section.attempt(partial(_read_freeze, section), None)
        if freeze is not None:
            freezes.append(freeze)
    return tuple(freezes)


def _read_freeze(section: Table) -> Freeze | None:
    section.only(_FREEZE_KEYS)
    found = len(section.context.problems)
    name = section.attempt(lambda: section.text("name", '"Christmas"'), "")
    start = section.attempt(lambda: _read_date(section, "start"), None)
    end = section.attempt(lambda: _read_date(section, "end"), None)
    if start is None or end is None or not section.context.clean_since(found):
        return None
    if end < start:
        section.fail(
            "end",
            f"the freeze ends ({end.isoformat()}) before it starts ({start.isoformat()}); "
            f"write an end on or after {start.isoformat()} (both days are included)",
        )
    return Freeze(name, start, end)


def _read_date(section: Table, name: str) -> date:
    section.require(name, "2026-12-20")
    value = section.data[name]
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            meant = date.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            section.fail(
                name, f'"{value}" is text; write the date without quotes: {meant.isoformat()}'
            )
    if isinstance(value, datetime):
        section.fail(name, f"expected a day, got a time too; write {value.date().isoformat()}")
    section.fail(name, f"{shown(value)} is not a date; write {name} = 2026-12-20")


def read_sla(
    section: Table, base: Mapping[Severity, timedelta | None]
) -> dict[Severity, timedelta | None]:
    section.only(_SEVERITIES)
    fix_within = dict(base)
    for severity in Severity:
        if section.has(severity.value):
            read = partial(_read_duration, section, severity.value)
            fix_within[severity] = section.attempt(read, fix_within[severity])
    return fix_within


def _read_duration(section: Table, name: str) -> timedelta | None:
    """A fix-by time: ``domain.durations``'s grammar (the same as a rollout plan's), or
    "none" for when convenient."""
    value = section.data[name]
    if isinstance(value, str) and value.strip().lower() == "none":
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)  # a bare number: the unit would be a guess
        return parse_duration(value)
    except DurationOutOfRange as error:
        section.fail(name, f"{shown(value)} is not a duration for [sla]: {error}")
    except ValueError:
        section.fail(
            name,
            f'{shown(value)} is not a duration; write a number and a unit such as "0h", '
            '"24h", "7d" or "2w" (units w, d, h, m, s), or "none" for when convenient',
        )


def read_approvals(
    owner: Table,
    name: str,
    any_role: frozenset[ApproverRole] = ANY_APPROVER,
    otherwise: str = "or leave approvals out for no approval gate",
) -> ApprovalRule:
    """An approvals table; ``roles`` left out is ``any_role``."""
    section = owner.table(name, "approvals", f"write {name} = {_APPROVALS_EXAMPLE}")
    section.only(_APPROVAL_KEYS)
    count = section.integer("count", "1")
    if count < 1:
        section.fail(
            "count", f"{count} approvals cannot be required; write count = 1 or more, {otherwise}"
        )
    roles = any_role
    if section.has("roles"):
        names = section.texts("roles", '["code-owner", "release-manager"]')
        if not names:
            section.fail("roles", f"is empty, so nobody could approve; list some of {_ROLES}")
        for index, role in enumerate(names):
            if role not in _ROLES:
                section.fail(
                    f"roles[{index}]",
                    f'"{role}" is not an approver role; {did_you_mean(role, _ROLES)}'
                    f"write one of {listing(_ROLES)}",
                )
        roles = frozenset(ApproverRole(role) for role in names)
    return ApprovalRule(count, roles)


def read_change_requests(root: Table, base: ApprovalRule) -> ApprovalRule:
    """``[change_requests]``: roles left out means anyone who may change flags."""
    section = root.table(
        "change_requests", "[change_requests]", "write [change_requests] (single brackets)"
    )
    section.only(protection.CHANGE_REQUEST_KEYS)
    if not section.has("approvals"):
        return base
    otherwise = "as a change request is never approved by its requester alone"
    return read_approvals(section, "approvals", frozenset(), otherwise)


def read_hotfix(section: Table, base: HotfixPolicy, default_branch: str) -> HotfixPolicy:
    section.only(_HOTFIX_KEYS)
    severities = base.severities
    if section.has("severities"):
        severities = section.attempt(lambda: _read_severities(section), base.severities)
    branch = default_branch
    if section.has("branch"):
        branch = section.attempt(lambda: read_branch(section, "branch"), default_branch)
    approvals = base.approvals
    if section.has("approvals"):
        approvals = section.attempt(lambda: read_approvals(section, "approvals"), base.approvals)
    justification = section.boolean("require_justification", base.require_justification)
    label = base.label
    if section.has("label"):
        label = section.attempt(lambda: section.text("label", '"HOTFIX"'), base.label)
    return HotfixPolicy(severities, branch, approvals, justification, label)


def _read_severities(section: Table) -> frozenset[Severity]:
    names = section.texts("severities", '["critical"]')
    if not names:
        section.fail("severities", 'is empty; write severities = ["critical"]')
    for index, severity in enumerate(names):
        if severity not in _SEVERITIES:
            section.fail(
                f"severities[{index}]",
                f'"{severity}" is not a severity; {did_you_mean(severity, _SEVERITIES)}'
                f"write one of {listing(_SEVERITIES)}",
            )
    return frozenset(Severity(name) for name in names)


def read_branch(section: Table, name: str) -> str:
    branch = section.text(name, '"main"')
    if not _BRANCH.fullmatch(branch) or ".." in branch or branch.endswith((".", "/")):
        section.fail(name, f'"{branch}" is not a branch name; write it as git does, e.g. "main"')
    return branch
