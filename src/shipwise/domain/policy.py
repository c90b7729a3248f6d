"""The release policy as code: ``shipwise.toml`` read into a ``Policy`` and written back.

    default_policy(environments, timezone) -> Policy   PRODUCT.md's process (table below)
    parse_policy(text, known_environments=…) -> Policy  validated; omitted sections default
    dump_policy(policy) -> str                          the same layout, every setting spelled
                                                        out: parse_policy(dump_policy(p)) == p

The layout is documented, with a full example, in ``docs/policy.md``. Pure: the standard
library only (``tomllib`` reads, ``zoneinfo`` checks time zone names).

Errors::

    PolicyError (ValueError)   the file is not TOML, or says something unknown, mistyped or
                               impossible. ``line`` (1-based, None when no line says it) and
                               ``key`` (``stage[2].approvals.count``) name the culprit; the
                               message says what to write instead.

PRODUCT.md, sentence by sentence, and the default setting that carries it out (for the
default pipeline dev → staging → production; with other environments the first takes dev's
gates, the last production's, those between staging's)::

    PRODUCT.md                                         default_policy()
    -------------------------------------------------  ----------------------------------------
    feature → dev → staging → main; "each merge        stages dev (branch dev), staging
      auto-deploys its environment"                      (staging), production (main), in order
    1. "code written and tests passing"                dev: require_ci
    1. "approval from a code owner"                    dev: approvals 1 of code-owner
    2. "test on DEV … verify stable"; 3. "PR dev →     staging: require_previous_deploy (the
      staging"                                           same commit deployed to dev), require_ci
    3. "one approval"                                  staging: approvals 1 of code-owner, qa
                                                         or release-manager
    4. "QA team tests on staging … QA sign-off"        production: signoffs qa on staging
    5. "PR staging → main; two approvals"              production: approvals 2 of code-owner,
                                                         qa or release-manager; require_ci;
                                                         protected (the last stage): only the
                                                         release or a change request with
                                                         [change_requests] approvals 2 (anyone)
                                                         shows a feature to more users there
    2. "test on DEV"; 4. "QA team tests on staging"    dev, staging: testers "everyone" (a
                                                         promotion switches the flags on there)
    "test in staging first"                            production: require_previous_deploy
                                                         (the same commit deployed to staging)
    "release during business hours"                    production: business_hours; window
                                                         Mon-Fri 09:00-17:00 in ``timezone``
    "release when team is available" (seed guide)      production: respect_freezes (no freeze
                                                         periods until the file names some)
    "have rollback ready": "document the steps"        production: require_rollback_plan
    "test the rollback in dev/staging and verify it    production: rollback_drill_in staging
      works"                                             (a successful drill since the change)
    "one feature per release"                          one_feature_per_release = true
    "keep releases focused"; "start at 10% in          production: one_feature_rolling_out,
      production … monitor"                              max_feature_rollouts = 1
    "critical: hotfix branch from main, PR labelled    hotfix: severities critical, branch
      HOTFIX, expedited review with 2 approvals"         main, label HOTFIX, approvals 2 of
                                                         code-owner or release-manager,
                                                         require_justification
    "non-critical: branch from dev … normal flow"      hotfix.severities is critical only
    critical now, high 24 h, medium a week, low        sla (``DEFAULT_FIX_WITHIN``): 0h, 24h,
      when convenient                                    7d, none
"""

from __future__ import annotations

import bisect
import difflib
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from shipwise.domain import policy_protection as protection
from shipwise.domain.pipeline import key_problem
from shipwise.domain.policy_model import (
    ApprovalRule,
    Freeze,
    HotfixPolicy,
    Policy,
    StageGates,
    Window,
)
from shipwise.domain.releases import DEFAULT_FIX_WITHIN, ApproverRole, Severity

__all__ = ["DEFAULT_ENVIRONMENTS", "PolicyError", "default_policy", "dump_policy", "parse_policy"]

# PRODUCT.md's pipeline: (environment, the branch that deploys it), in promotion order.
DEFAULT_ENVIRONMENTS: tuple[tuple[str, str], ...] = (
    ("dev", "dev"),
    ("staging", "staging"),
    ("production", "main"),
)


class PolicyError(ValueError):
    """A policy file that cannot be used. ``line`` is 1-based (None when the problem is
    something the file leaves out), ``key`` a dotted path (None for TOML syntax errors)."""

    def __init__(
        self, problem: str, *, line: int | None, key: str | None, source: str = "shipwise.toml"
    ) -> None:
        self.problem = problem
        self.line = line
        self.key = key
        self.source = source
        where = source if line is None else f"{source} line {line}"
        if key is not None:
            where = f"{where}, key {key}"
        super().__init__(f"{where}: {problem}")


# -- the defaults --------------------------------------------------------------------------

_ANY_APPROVER = frozenset(ApproverRole)


def default_policy(
    environments: Sequence[tuple[str, str]] = DEFAULT_ENVIRONMENTS, timezone: str = "UTC"
) -> Policy:
    """PRODUCT.md's process for ``environments`` ((environment, branch) in promotion order):
    the first gets dev's gates, the last production's, any between staging's."""
    names = [environment for environment, _ in environments]
    if not names:
        raise ValueError("default_policy needs at least one (environment, branch)")
    if len(set(names)) != len(names):
        raise ValueError(f"default_policy: an environment is listed twice in {names}")
    stages: list[StageGates] = []
    for index, (environment, branch) in enumerate(environments):
        previous = names[index - 1] if index else None
        if index == len(names) - 1:
            stages.append(_production_stage(environment, branch, previous))
        elif previous is None:
            code_owner = ApprovalRule(1, frozenset({ApproverRole.CODE_OWNER}))
            stages.append(StageGates(environment, branch, approvals=code_owner))
        else:
            approval = ApprovalRule(1, _ANY_APPROVER)
            stages.append(
                StageGates(environment, branch, approvals=approval, require_previous_deploy=True)
            )
    return Policy(
        timezone=timezone,
        stages=tuple(stages),
        window=Window(frozenset(range(5)), time(9, 0), time(17, 0)),
        freezes=(),
        one_feature_per_release=True,
        max_feature_rollouts=1,
        hotfix=HotfixPolicy(
            severities=frozenset({Severity.CRITICAL}),
            branch=environments[-1][1],
            approvals=ApprovalRule(
                2, frozenset({ApproverRole.CODE_OWNER, ApproverRole.RELEASE_MANAGER})
            ),
            require_justification=True,
            label="HOTFIX",
        ),
        fix_within=dict(DEFAULT_FIX_WITHIN),
        code_owners=(),
    )


def _production_stage(environment: str, branch: str, previous: str | None) -> StageGates:
    return StageGates(
        environment,
        branch,
        approvals=ApprovalRule(2, _ANY_APPROVER),
        signoffs=(("qa", previous),) if previous else (),
        require_ci=True,
        require_previous_deploy=previous is not None,
        require_rollback_plan=True,
        rollback_drill_in=previous,
        business_hours=True,
        respect_freezes=True,
        one_feature_rolling_out=True,
        protected=True,
        testers=None,
    )


# -- where a key is written ----------------------------------------------------------------


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _parent(path: str) -> str:
    return path[: max(path.rfind("."), path.rfind("["), 0)]


class _Locator:
    """The line of every key, table header and array element of valid TOML text, by
    dotted path (``stage[1].approvals.count``). tomllib keeps no positions, so this walks
    the text once; it trusts tomllib to have rejected anything malformed."""

    _BARE = re.compile(r"[A-Za-z0-9_-]*")
    _SCALAR_END = frozenset(",]}#\r\n")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.newlines = [i for i, c in enumerate(text) if c == "\n"]
        self.lines: dict[str, int] = {}
        self.tables: dict[str, int] = {}  # array-of-tables path → elements so far

    def line_of(self, key: str | None) -> int | None:
        """The line that writes ``key``, or else its nearest written parent."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = _parent(key)
        return None

    def run(self) -> _Locator:
        table = ""
        while self._blank(newlines=True):
            if self._peek() == "[":
                table = self._header()
            else:
                self._keyval(table)
        return self

    def _peek(self, count: int = 1) -> str:
        return self.text[self.pos : self.pos + count]

    def _line(self) -> int:
        return bisect.bisect_left(self.newlines, self.pos) + 1

    def _record(self, path: str, line: int) -> None:
        self.lines.setdefault(path, line)

    def _blank(self, *, newlines: bool) -> bool:
        """Skip spaces (and newlines and comments); whether any text is left."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif char in " \t" or (newlines and char in "\r\n"):
                self.pos += 1
            else:
                return True
        return False

    def _resolve(self, parts: list[str]) -> str:
        path = ""
        for part in parts:
            path = _join(path, part)
            if path in self.tables:
                path = f"{path}[{self.tables[path] - 1}]"
        return path

    def _header(self) -> str:
        line = self._line()
        double = self._peek(2) == "[["
        self.pos += 2 if double else 1
        parts = self._key()
        self.pos += 2 if double else 1
        if not double:
            path = self._resolve(parts)
        else:
            base = _join(self._resolve(parts[:-1]), parts[-1])
            index = self.tables.get(base, 0)
            self.tables[base] = index + 1
            path = f"{base}[{index}]"
        for prefix in _prefixes(path):
            self._record(prefix, line)
        return path

    def _key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self._blank(newlines=False)
            quote = self._peek()
            if quote in "\"'" and quote:
                start = self.pos + 1
                self._string()
                parts.append(self.text[start : self.pos - 1])
            else:
                match = self._BARE.match(self.text, self.pos)
                parts.append(match.group() if match else "")
                self.pos = match.end() if match else self.pos
            self._blank(newlines=False)
            if self._peek() != ".":
                return parts
            self.pos += 1

    def _keyval(self, table: str) -> None:
        line = self._line()
        path = table
        for part in self._key():
            path = _join(path, part)
            self._record(path, line)
        self.pos += 1  # "="
        self._blank(newlines=False)
        self._value(path)

    def _value(self, path: str) -> None:
        char = self._peek()
        if char == "[":
            self._array(path)
        elif char == "{":
            self._inline_table(path)
        elif char in "\"'" and char:
            self._string()
        else:
            while self.pos < len(self.text) and self.text[self.pos] not in self._SCALAR_END:
                self.pos += 1

    def _array(self, path: str) -> None:
        self.pos += 1
        index = 0
        while self._blank(newlines=True) and self._peek() != "]":
            before = self.pos
            element = f"{path}[{index}]"
            self._record(element, self._line())
            self._value(element)
            index += 1
            self._blank(newlines=True)
            if self._peek() == "," or self.pos == before:  # the second: never loop forever
                self.pos += 1
        self.pos += 1

    def _inline_table(self, path: str) -> None:
        self.pos += 1
        while self._blank(newlines=True) and self._peek() != "}":
            self._keyval(path)
            self._blank(newlines=True)
            if self._peek() == ",":
                self.pos += 1
        self.pos += 1

    def _string(self) -> None:
        text = self.text
        quote = text[self.pos]
        delimiter = quote * 3 if self._peek(3) == quote * 3 else quote
        self.pos += len(delimiter)
        while self.pos < len(text):
            if quote == '"' and text[self.pos] == "\\":
                self.pos += 2
            elif text.startswith(delimiter, self.pos):
                self.pos += len(delimiter)
                while len(delimiter) == 3 and self._peek() == quote:  # """a"""" is a"
                    self.pos += 1
                return
            else:
                self.pos += 1


def _prefixes(path: str) -> list[str]:
    found = []
    while path:
        found.append(path)
        path = _parent(path)
    return found[::-1]


# -- reading values, with errors that name the line and key --------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    source: str
    locator: _Locator

    def fail(self, key: str | None, problem: str) -> NoReturn:
        raise PolicyError(problem, line=self.locator.line_of(key), key=key, source=self.source)


def _kind(value: object) -> str:
    kinds: list[tuple[type, str]] = [
        (bool, "true/false"),
        (int, "a whole number"),
        (float, "a number"),
        (str, "text"),
        (list, "a list"),
        (dict, "a table"),
        (datetime, "a date and time"),
        (date, "a date"),
        (time, "a time"),
    ]
    return next((name for kind, name in kinds if isinstance(value, kind)), type(value).__name__)


def _shown(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        plain = len(repr(value)) <= 40 and not any(isinstance(v, dict | list) for v in value)
        return f"{_toml(value)} (a list)" if plain else "a list"
    shown = _toml(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return shown if isinstance(value, str) else f"{shown} ({_kind(value)})"


def _closest(word: str, choices: Sequence[str]) -> str | None:
    """The choice ``word`` probably meant: the same but for case, one it begins
    ("prod" → "production"), or one with similar letters."""
    lowered = word.lower()
    close = [c for c in choices if c.lower() == lowered]
    close += [c for c in choices if len(word) >= 3 and c.lower().startswith(lowered)]
    close += difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = _closest(word, choices)
    return f'did you mean "{close}"? ' if close else ""


def _listing(choices: Sequence[str]) -> str:
    return ", ".join(choices)


class _Table:
    """One TOML table, where it sits (``stage[1]``) and what it is called in messages."""

    __slots__ = ("context", "data", "label", "path")

    def __init__(self, context: _Context, data: Mapping[str, Any], path: str, label: str) -> None:
        self.context = context
        self.data = data
        self.path = path
        self.label = label

    def key(self, name: str) -> str:
        return _join(self.path, name)

    def fail(self, name: str, problem: str) -> NoReturn:
        self.context.fail(self.key(name), problem)

    def has(self, name: str) -> bool:
        return name in self.data

    def only(self, allowed: Sequence[str]) -> None:
        for name in self.data:
            if name not in allowed:
                self.fail(
                    name,
                    f'unknown key "{name}"; {_suggest(name, allowed)}'
                    f"{self.label} takes {_listing(allowed)}",
                )

    def require(self, name: str, example: str) -> None:
        if name not in self.data:
            self.fail(name, f"is missing from {self.label}; write {name} = {example}")

    def _typed(self, name: str, check: Callable[[object], bool], what: str, instead: str) -> Any:
        value = self.data[name]
        if not check(value):
            self.fail(name, f"expected {what}, got {_shown(value)}; {instead}")
        return value

    def text(self, name: str, example: str) -> str:
        self.require(name, example)
        value: str = self._typed(name, _is_text, "text in quotes", f"write {name} = {example}")
        if not value.strip():
            self.fail(name, f"is empty; write {name} = {example}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        if name not in self.data:
            return default
        value: bool = self._typed(name, _is_bool, "true or false", f"write {name} = true")
        return value

    def integer(self, name: str, example: str) -> int:
        self.require(name, example)
        value: int = self._typed(name, _is_int, "a whole number", f"write {name} = {example}")
        return value

    def texts(self, name: str, example: str) -> list[str]:
        self.require(name, example)
        items: list[Any] = self._typed(name, _is_list, "a list", f"write {name} = {example}")
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                self.fail(
                    f"{name}[{index}]",
                    f"expected text in quotes, got {_shown(item)}; write {name} = {example}",
                )
        return items

    def table(self, name: str, label: str, instead: str) -> _Table:
        value: Mapping[str, Any] = self._typed(name, _is_table, "a table", instead)
        return _Table(self.context, value, self.key(name), label)

    def tables(self, name: str, label: str, instead: str) -> list[_Table]:
        items: list[Any] = self._typed(name, _is_list, f"a list of {label} tables", instead)
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                self.fail(f"{name}[{index}]", f"expected a table, got {_shown(item)}; {instead}")
        return [
            _Table(self.context, item, f"{self.key(name)}[{index}]", label)
            for index, item in enumerate(items)
        ]


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_list(value: object) -> bool:
    return isinstance(value, list)


def _is_table(value: object) -> bool:
    return isinstance(value, dict)


# -- the sections --------------------------------------------------------------------------

_TOP_KEYS = (
    "timezone",
    "one_feature_per_release",
    "max_feature_rollouts",
    "code_owners",
    "window",
    "freeze",
    "sla",
    "hotfix",
    "change_requests",
    "stage",
)
_WINDOW_KEYS = ("weekdays", "start", "end")
_FREEZE_KEYS = ("name", "start", "end")
_HOTFIX_KEYS = ("severities", "branch", "approvals", "require_justification", "label")
_APPROVAL_KEYS = ("count", "roles")
_SIGNOFF_KEYS = ("kind", "environment")
_STAGE_KEYS = (
    "environment",
    "branch",
    "require_ci",
    "require_previous_deploy",
    "approvals",
    "signoffs",
    "checklist",
    "require_rollback_plan",
    "rollback_drill_in",
    "business_hours",
    "respect_freezes",
    "one_feature_rolling_out",
    *protection.STAGE_KEYS,
)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ROLES = tuple(role.value for role in ApproverRole)
_SEVERITIES = tuple(severity.value for severity in Severity)
_BRANCH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]*")
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?")
_CLOCK_GUESS = re.compile(r"(\d{1,2})(?:[:.h]?(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?", re.IGNORECASE)
_DURATION = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_DURATION_UNITS = (
    timedelta(weeks=1),
    timedelta(days=1),
    timedelta(hours=1),
    timedelta(minutes=1),
    timedelta(seconds=1),
)
_APPROVALS_EXAMPLE = '{ count = 1, roles = ["code-owner"] }'


def _read_timezone(root: _Table) -> str:
    name = root.text("timezone", '"Europe/Oslo"')
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        root.fail(
            "timezone",
            f'"{name}" is not a time zone; {_suggest(name, _zones())}write an IANA name such '
            'as "Europe/Oslo" or "UTC"',
        )
    return name


@cache
def _zones() -> list[str]:
    return sorted(available_timezones())


def _read_max_rollouts(root: _Table) -> int:
    count = root.integer("max_feature_rollouts", "1")
    if count < 1:
        root.fail(
            "max_feature_rollouts",
            f"{count} would stop every feature; write max_feature_rollouts = 1 or more",
        )
    return count


def _read_window(section: _Table, base: Window) -> Window:
    section.only(_WINDOW_KEYS)
    weekdays = base.weekdays
    if section.has("weekdays"):
        weekdays = _read_weekdays(section)
    start = _read_time(section, "start") if section.has("start") else base.start
    end = _read_time(section, "end") if section.has("end") else base.end
    if start >= end:
        blamed = "end" if section.has("end") or not section.has("start") else "start"
        section.fail(
            blamed,
            f'the window never opens: it starts at "{_clock(start)}" and ends at '
            f'"{_clock(end)}" (exclusive), the same day; write start = "09:00" and '
            'end = "17:00", with end later than start',
        )
    return Window(weekdays, start, end)


def _read_weekdays(section: _Table) -> frozenset[int]:
    example = '["mon", "tue", "wed", "thu", "fri"]'
    names = section.texts("weekdays", example)
    if not names:
        section.fail("weekdays", f"is empty, so the window never opens; write weekdays = {example}")
    days: set[int] = set()
    for index, name in enumerate(names):
        day = name.strip().lower()
        number = (
            _WEEKDAYS.index(day)
            if day in _WEEKDAYS
            else _FULL_WEEKDAYS.index(day)
            if day in _FULL_WEEKDAYS
            else None
        )
        if number is None:
            guess = _closest(day, _WEEKDAYS + _FULL_WEEKDAYS)
            section.fail(
                f"weekdays[{index}]",
                f'"{name}" is not a day; {_suggest(guess[:3], _WEEKDAYS) if guess else ""}'
                f"write one of {_listing(_WEEKDAYS)}",
            )
        if number in days:
            section.fail(f"weekdays[{index}]", f'"{name}" is listed twice; write each day once')
        days.add(number)
    return frozenset(days)


def _read_time(section: _Table, name: str) -> time:
    value = section.data[name]
    if isinstance(value, time) and value.tzinfo is None and not value.microsecond:
        return value
    if isinstance(value, str) and (match := _TIME.fullmatch(value.strip())):
        hour, minute, second = match.groups()
        return time(int(hour), int(minute), int(second or 0))
    section.fail(name, f"{_shown(value)} is not a time; write {_guess_clock(value)}")


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


def _clock(moment: time) -> str:
    return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")


def _read_freezes(root: _Table) -> tuple[Freeze, ...]:
    example = "write a [[freeze]] table (double brackets) with name, start and end"
    freezes = []
    for section in root.tables("freeze", "[[freeze]]", example):
        section.only(_FREEZE_KEYS)
        name = section.text("name", '"Christmas"')
        start = _read_date(section, "start")
        end = _read_date(section, "end")
        if end < start:
            section.fail(
                "end",
                f"the freeze ends ({end.isoformat()}) before it starts ({start.isoformat()}); "
                f"write an end on or after {start.isoformat()} (both days are included)",
            )
        freezes.append(Freeze(name, start, end))
    return tuple(freezes)


def _read_date(section: _Table, name: str) -> date:
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
    section.fail(name, f"{_shown(value)} is not a date; write {name} = 2026-12-20")


def _read_sla(
    section: _Table, base: Mapping[Severity, timedelta | None]
) -> dict[Severity, timedelta | None]:
    section.only(_SEVERITIES)
    fix_within = dict(base)
    for severity in Severity:
        if section.has(severity.value):
            fix_within[severity] = _read_duration(section, severity.value)
    return fix_within


def _read_duration(section: _Table, name: str) -> timedelta | None:
    value = section.data[name]
    text = value.strip().lower() if isinstance(value, str) else None
    if text == "none":
        return None
    match = _DURATION.fullmatch(text) if text else None
    if not match or not any(match.groups()):
        section.fail(
            name,
            f'{_shown(value)} is not a duration; write a number and a unit such as "0h", '
            '"24h", "7d" or "2w" (units w, d, h, m, s), or "none" for when convenient',
        )
    return sum(
        (
            unit * int(amount)
            for unit, amount in zip(_DURATION_UNITS, match.groups(), strict=True)
            if amount
        ),
        timedelta(0),
    )


def _read_approvals(
    owner: _Table,
    name: str,
    any_role: frozenset[ApproverRole] = _ANY_APPROVER,
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
                    f'"{role}" is not an approver role; {_suggest(role, _ROLES)}'
                    f"write one of {_listing(_ROLES)}",
                )
        roles = frozenset(ApproverRole(role) for role in names)
    return ApprovalRule(count, roles)


def _read_change_requests(root: _Table, base: ApprovalRule) -> ApprovalRule:
    """``[change_requests]``: roles left out means anyone who may change flags."""
    section = root.table(
        "change_requests", "[change_requests]", "write [change_requests] (single brackets)"
    )
    section.only(protection.CHANGE_REQUEST_KEYS)
    if not section.has("approvals"):
        return base
    otherwise = "as a change request is never approved by its requester alone"
    return _read_approvals(section, "approvals", frozenset(), otherwise)


def _read_hotfix(section: _Table, base: HotfixPolicy, default_branch: str) -> HotfixPolicy:
    section.only(_HOTFIX_KEYS)
    severities = base.severities
    if section.has("severities"):
        names = section.texts("severities", '["critical"]')
        if not names:
            section.fail("severities", 'is empty; write severities = ["critical"]')
        for index, severity in enumerate(names):
            if severity not in _SEVERITIES:
                section.fail(
                    f"severities[{index}]",
                    f'"{severity}" is not a severity; {_suggest(severity, _SEVERITIES)}'
                    f"write one of {_listing(_SEVERITIES)}",
                )
        severities = frozenset(Severity(name) for name in names)
    branch = _read_branch(section, "branch") if section.has("branch") else default_branch
    approvals = base.approvals
    if section.has("approvals"):
        approvals = _read_approvals(section, "approvals")
    justification = section.boolean("require_justification", base.require_justification)
    label = section.text("label", '"HOTFIX"') if section.has("label") else base.label
    return HotfixPolicy(severities, branch, approvals, justification, label)


def _read_branch(section: _Table, name: str) -> str:
    branch = section.text(name, '"main"')
    if not _BRANCH.fullmatch(branch) or ".." in branch or branch.endswith((".", "/")):
        section.fail(name, f'"{branch}" is not a branch name; write it as git does, e.g. "main"')
    return branch


def _read_stage(section: _Table, *, last: bool) -> StageGates:
    section.only(_STAGE_KEYS)
    environment = section.text("environment", '"production"')
    protected, testers = protection.read_protection(section, environment, last=last)
    branch = _read_branch(section, "branch")
    approvals = _read_approvals(section, "approvals") if section.has("approvals") else None
    signoffs: list[tuple[str, str]] = []
    if section.has("signoffs"):
        example = '[{ kind = "qa", environment = "staging" }]'
        for signoff in section.tables("signoffs", "a sign-off", f"write signoffs = {example}"):
            signoff.only(_SIGNOFF_KEYS)
            kind = signoff.text("kind", '"qa"')
            if problem := key_problem(kind):
                signoff.fail("kind", f'{problem}, e.g. "qa"')
            signoffs.append((kind, signoff.text("environment", '"staging"')))
    checklist: list[str] = []
    if section.has("checklist"):
        checklist = section.texts("checklist", '["Release notes shared with the team"]')
        for index, item in enumerate(checklist):
            if item in checklist[:index]:
                section.fail(f"checklist[{index}]", f'"{item}" is listed twice; write it once')
    drill = None
    if section.has("rollback_drill_in"):
        drill = section.text("rollback_drill_in", '"staging"')
    return StageGates(
        environment,
        branch,
        approvals=approvals,
        signoffs=tuple(signoffs),
        checklist=tuple(checklist),
        require_ci=section.boolean("require_ci", True),
        require_previous_deploy=section.boolean("require_previous_deploy", False),
        require_rollback_plan=section.boolean("require_rollback_plan", False),
        rollback_drill_in=drill,
        business_hours=section.boolean("business_hours", False),
        respect_freezes=section.boolean("respect_freezes", False),
        one_feature_rolling_out=section.boolean("one_feature_rolling_out", False),
        protected=protected,
        testers=testers,
    )


# -- the whole file ------------------------------------------------------------------------

_SYNTAX_HINTS = (  # tomllib's message → what to write instead
    (
        "Invalid value",
        'text goes in double quotes (branch = "main"), true and false are '
        "lowercase, dates are written 2026-12-20",
    ),
    (
        "Expected newline or end of document",
        'write one key = value per line, and text in double quotes (start = "09:00")',
    ),
    ("Cannot declare", "each [table] may appear once; write [[stage]] for a list of stages"),
    ("Cannot overwrite", "each key may appear once in a table; keep one of them"),
    ("Cannot mutate", "each key may appear once in a table; keep one of them"),
    ("Unclosed array", "close the list with ]"),
    ("Unclosed inline table", "close the table with } on the same line"),
    ("Unterminated string", "close the text with the quote it opened with"),
    (
        "Invalid initial character for a key part",
        "keys are plain words (require_ci), and { inline tables } must fit on one line",
    ),
)


def _syntax_error(text: str, error: tomllib.TOMLDecodeError, source: str) -> PolicyError:
    message = str(error)
    found = re.search(r"\(at line (\d+), column \d+\)|\(at end of document\)", message)
    line = int(found.group(1)) if found and found.group(1) else max(1, len(text.splitlines()))
    what = message[: found.start()].strip() if found else message
    hint = next(
        (hint for prefix, hint in _SYNTAX_HINTS if what.startswith(prefix)),
        "see docs/policy.md for the layout",
    )
    return PolicyError(f"not valid TOML ({what}); {hint}", line=line, key=None, source=source)


def parse_policy(
    text: str,
    *,
    known_environments: Sequence[str] | None = None,
    defaults: Policy | None = None,
    source: str = "shipwise.toml",
) -> Policy:
    """The policy ``text`` (a ``shipwise.toml``) describes. Sections it leaves out, and keys
    it leaves out of ``[window]``, ``[sla]`` and ``[hotfix]``, take ``defaults`` (PRODUCT.md's
    process: ``default_policy()``); a ``[[stage]]`` list replaces the default stages whole.
    ``known_environments`` are the project's environments in promotion order: when given,
    the stages must be exactly those, in that order. Raises ``PolicyError``."""
    base = default_policy() if defaults is None else defaults
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _syntax_error(text, error, source) from None
    context = _Context(source, _Locator(text).run())
    root = _Table(context, data, "", "the top level")
    root.only(_TOP_KEYS)
    has = root.has
    timezone = _read_timezone(root) if has("timezone") else base.timezone
    one_feature = root.boolean("one_feature_per_release", base.one_feature_per_release)
    rollouts = (
        _read_max_rollouts(root) if has("max_feature_rollouts") else base.max_feature_rollouts
    )
    owners = root.texts("code_owners", '["alice", "bob"]') if has("code_owners") else None
    window = base.window
    if has("window"):
        section = root.table("window", "[window]", "write [window] (single brackets)")
        window = _read_window(section, base.window)
    freezes = _read_freezes(root) if has("freeze") else base.freezes
    fix_within = dict(base.fix_within)
    if has("sla"):
        fix_within = _read_sla(
            root.table("sla", "[sla]", "write [sla] (single brackets)"), fix_within
        )
    if has("stage"):
        stages = _read_stages(root, known_environments)
    else:
        stages = _default_stages(context, base.stages, known_environments)
    hotfix = _hotfix(root, base.hotfix, stages)
    change_approvals = base.change_approvals
    if has("change_requests"):
        change_approvals = _read_change_requests(root, change_approvals)
    return Policy(
        timezone=timezone,
        stages=stages,
        window=window,
        freezes=freezes,
        one_feature_per_release=one_feature,
        max_feature_rollouts=rollouts,
        hotfix=hotfix,
        fix_within=fix_within,
        code_owners=base.code_owners if owners is None else tuple(owners),
        change_approvals=change_approvals,
    )


def _default_stages(
    context: _Context, stages: tuple[StageGates, ...], known: Sequence[str] | None
) -> tuple[StageGates, ...]:
    environments = [stage.environment for stage in stages]
    if known is not None and environments != list(known):
        context.fail(
            "stage",
            f"there is no [[stage]], and the default stages ({' → '.join(environments)}) are "
            f"not this project's environments ({' → '.join(known)}); write one [[stage]] per "
            "environment, in that order",
        )
    return stages


def _hotfix(root: _Table, base: HotfixPolicy, stages: tuple[StageGates, ...]) -> HotfixPolicy:
    """The hotfix path; its branch, unless written, is the last stage's (production's)."""
    hotfix = base
    if root.has("hotfix"):
        section = root.table("hotfix", "[hotfix]", "write [hotfix] (single brackets)")
        hotfix = _read_hotfix(section, base, stages[-1].branch)
    elif root.has("stage"):
        hotfix = replace(base, branch=stages[-1].branch)
    branches = [stage.branch for stage in stages]
    if hotfix.branch not in branches:
        root.fail(
            "hotfix.branch",
            f'"{hotfix.branch}" is not the branch of any stage; write one of '
            f'{_listing(branches)} (hotfixes start from production\'s, "{branches[-1]}")',
        )
    return hotfix


def _read_stages(root: _Table, known: Sequence[str] | None) -> tuple[StageGates, ...]:
    example = "write one [[stage]] table per environment (double brackets)"
    sections = root.tables("stage", "[[stage]]", example)
    if not sections:
        root.fail("stage", f"is empty; {example}, in promotion order")
    last = len(sections) - 1
    stages = tuple(_read_stage(section, last=n == last) for n, section in enumerate(sections))
    _check_stages(root, stages, known)
    return stages


def _check_stages(
    root: _Table, stages: tuple[StageGates, ...], known: Sequence[str] | None
) -> None:
    """Environments exist, each has one stage, in pipeline order; references point back."""
    order = list(known) if known is not None else [stage.environment for stage in stages]
    seen: list[str] = []
    for index, stage in enumerate(stages):
        key = f"stage[{index}]"
        if stage.environment in seen:
            root.fail(
                f"{key}.environment",
                f'"{stage.environment}" already has a stage (stage[{seen.index(stage.environment)}]'
                "); write one [[stage]] per environment",
            )
        _check_environment(root, f"{key}.environment", stage.environment, known)
        if seen and order.index(stage.environment) < order.index(seen[-1]):
            root.fail(
                f"{key}.environment",
                f'"{stage.environment}" comes before "{seen[-1]}" in the pipeline '
                f"({' → '.join(order)}); write the [[stage]] tables in that order",
            )
        seen.append(stage.environment)
        if stage.require_previous_deploy and index == 0:
            root.fail(
                f"{key}.require_previous_deploy",
                f'"{stage.environment}" is the first stage, so there is no environment to have '
                "deployed to before it; write require_previous_deploy = false",
            )
        where = [f"{key}.signoffs[{n}].environment" for n in range(len(stage.signoffs))]
        where.append(f"{key}.rollback_drill_in")
        tested = [environment for _, environment in stage.signoffs] + [stage.rollback_drill_in]
        for place, environment in zip(where, tested, strict=True):
            if environment is not None:
                _check_earlier(root, place, environment, stage.environment, seen[:-1], known)
    missing = [environment for environment in order if environment not in seen]
    if missing:
        root.fail(
            "stage",
            f'environment "{missing[0]}" has no [[stage]]; write one for each of '
            f"{' → '.join(order)}, in that order",
        )


def _check_environment(
    root: _Table, key: str, environment: str, known: Sequence[str] | None
) -> None:
    if known is None:
        if problem := key_problem(environment):
            root.fail(key, f'{problem}, e.g. "production"')
    elif environment not in known:
        root.fail(
            key,
            f'this project has no environment "{environment}"; '
            f"{_suggest(environment, list(known))}write one of {_listing(list(known))}",
        )


def _check_earlier(
    root: _Table,
    key: str,
    environment: str,
    target: str,
    earlier: list[str],
    known: Sequence[str] | None,
) -> None:
    _check_environment(root, key, environment, known)
    if environment not in earlier:
        choices = _listing(earlier) if earlier else "none: this is the first stage"
        root.fail(
            key,
            f'"{environment}" is not a stage before "{target}", so nothing can be tested there '
            f"before promoting into {target}; write an earlier environment ({choices})",
        )


# -- writing -------------------------------------------------------------------------------

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f"}
_ESCAPES["\r"] = "\\r"


def _toml(value: object) -> str:
    """``value`` as a TOML value (text, true/false, numbers, dates, lists)."""
    if isinstance(value, str):
        escaped = "".join(
            _ESCAPES.get(char)
            or (f"\\u{ord(char):04X}" if ord(char) < 0x20 or ord(char) == 0x7F else char)
            for char in value
        )
        return f'"{escaped}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return f"[{', '.join(_toml(item) for item in value)}]"
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "none"
    seconds = int(value.total_seconds())
    if seconds and seconds % 86400 == 0 and seconds >= 2 * 86400:
        return f"{seconds // 86400}d"
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    return "".join(parts) or "0h"


def _approvals(rule: ApprovalRule) -> str:
    roles = [role.value for role in ApproverRole if role in rule.roles]
    if not roles:  # change requests only: anyone may approve
        return f"{{ count = {rule.count} }}"
    return f"{{ count = {rule.count}, roles = {_toml(roles)} }}"


def dump_policy(policy: Policy) -> str:
    """``policy`` in the ``shipwise.toml`` layout, every setting written out."""
    window = policy.window
    lines = [
        "# Shipwise release policy; the layout is described in docs/policy.md",
        f"timezone = {_toml(policy.timezone)}",
        f"one_feature_per_release = {_toml(policy.one_feature_per_release)}",
        f"max_feature_rollouts = {policy.max_feature_rollouts}",
        f"code_owners = {_toml(policy.code_owners)}",
    ]
    if not policy.freezes:
        lines.append("freeze = []  # no freeze periods")
    lines += [
        "",
        "[window]  # when stages with business_hours = true may be promoted into",
        f"weekdays = {_toml([_WEEKDAYS[day] for day in sorted(window.weekdays)])}",
        f'start = "{_clock(window.start)}"',
        f'end = "{_clock(window.end)}"  # exclusive',
        "",
        "[sla]  # fix-by time per bug severity",
        *(f'{s.value} = "{_duration(policy.fix_within.get(s))}"' for s in Severity),
        "",
        "[hotfix]",
        f"severities = {_toml([s.value for s in Severity if s in policy.hotfix.severities])}",
        f"branch = {_toml(policy.hotfix.branch)}",
        f"approvals = {_approvals(policy.hotfix.approvals)}",
        f"require_justification = {_toml(policy.hotfix.require_justification)}",
        f"label = {_toml(policy.hotfix.label)}",
    ]
    lines += protection.change_requests_lines(
        policy.change_approvals, _approvals(policy.change_approvals)
    )
    for freeze in policy.freezes:
        lines += ["", "[[freeze]]", f"name = {_toml(freeze.name)}"]
        lines += [f"start = {_toml(freeze.start)}", f"end = {_toml(freeze.end)}"]
    for stage in policy.stages:
        lines += _dump_stage(stage)
    return "\n".join(lines) + "\n"


def _dump_stage(stage: StageGates) -> list[str]:
    lines = [
        "",
        "[[stage]]",
        f"environment = {_toml(stage.environment)}",
        f"branch = {_toml(stage.branch)}",
        f"require_ci = {_toml(stage.require_ci)}",
        f"require_previous_deploy = {_toml(stage.require_previous_deploy)}",
    ]
    if stage.approvals is None:
        lines.append("# no approvals required")
    else:
        lines.append(f"approvals = {_approvals(stage.approvals)}")
    if stage.signoffs:
        signoffs = ", ".join(
            f"{{ kind = {_toml(kind)}, environment = {_toml(environment)} }}"
            for kind, environment in stage.signoffs
        )
        lines.append(f"signoffs = [{signoffs}]")
    if stage.checklist:
        lines.append(f"checklist = {_toml(stage.checklist)}")
    lines.append(f"require_rollback_plan = {_toml(stage.require_rollback_plan)}")
    if stage.rollback_drill_in is not None:
        lines.append(f"rollback_drill_in = {_toml(stage.rollback_drill_in)}")
    lines += [
        f"business_hours = {_toml(stage.business_hours)}",
        f"respect_freezes = {_toml(stage.respect_freezes)}",
        f"one_feature_rolling_out = {_toml(stage.one_feature_rolling_out)}",
        f"protected = {_toml(stage.protected)}",
    ]
    if not stage.protected:  # a protected stage's rollout plan decides who sees a feature
        testers = protection.NOBODY if stage.testers is None else stage.testers
        lines.append(f"testers = {_toml(testers)}  # who sees its flags once a release is here")
    return lines
