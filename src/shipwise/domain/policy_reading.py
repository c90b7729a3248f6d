"""The toolkit that reads ``shipwise.toml``: typed values out of TOML tables, and every
problem found kept with its line and key, then raised as one ``PolicyError``.

    Context(source, TomlLines(text).run())   where problems go (``context.problems``)
    Table(context, data, path, label)        one TOML table: ``text``, ``boolean``,
                                             ``integer``, ``texts``, ``table``, ``tables``
    context.attempt(read, fallback)          read one setting; on a problem, the fallback

A reader calls ``fail`` for a problem it cannot read past (the setting is unusable): it
is recorded and the reading of that setting stops, back to the nearest ``attempt``,
which gives the fallback so the rest of the file is still read. Problems that leave a
usable value (an unknown key, a true/false that is not) are only recorded. After the
whole file, ``context.finish()`` raises one ``PolicyError`` listing them all, so one
round trip fixes a file with three mistakes.

Errors::

    PolicyError (ValueError)   ``problems``: every one found, in line order;
                               ``problem``, ``line``, ``key``: the first one's, as before
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, NoReturn, TypeVar

from shipwise.domain.policy_toml import toml_value
from shipwise.domain.toml_lines import TomlLines, join_key
from shipwise.engine.problems import Problem, Problems, did_you_mean

__all__ = ["Context", "PolicyError", "Table", "listing", "shown", "syntax_error"]

_T = TypeVar("_T")


class PolicyError(ValueError):
    """A policy file that cannot be used. ``problems`` holds every problem found; the
    attributes ``problem``, ``line`` (1-based, None when the problem is something the file
    leaves out) and ``key`` (a dotted path, None for TOML syntax errors) are the first's."""

    def __init__(
        self,
        problem: str,
        *,
        line: int | None,
        key: str | None,
        source: str = "shipwise.toml",
        problems: Sequence[Problem] = (),
    ) -> None:
        self.problem = problem
        self.line = line
        self.key = key
        self.source = source
        self.problems = tuple(problems) or (Problem(key, problem, line),)
        super().__init__(_message(self.problems, source))

    @classmethod
    def of(cls, problems: Sequence[Problem], source: str) -> PolicyError:
        first = problems[0]
        return cls(first.text, line=first.line, key=first.path, source=source, problems=problems)


def _where(problem: Problem, source: str | None) -> str:
    where = [] if source is None else [source]
    where += [] if problem.line is None else [f"line {problem.line}"]
    where = [" ".join(where)] if where else []
    where += [] if problem.path is None else [f"key {problem.path}"]
    return ", ".join(where)


def _message(problems: Sequence[Problem], source: str) -> str:
    """One problem: ``file line 9, key window.start: …``. Several: numbered on one line
    (the CLI shows a message as one line)."""
    if len(problems) == 1:
        return f"{_where(problems[0], source)}: {problems[0].text}"
    listed = "; ".join(
        f"({number}) {_where(problem, None) or 'the file'}: {problem.text}"
        for number, problem in enumerate(problems, 1)
    )
    return f"{source} has {len(problems)} problems: {listed}"


def _by_line(problems: Sequence[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda problem: (problem.line is None, problem.line or 0))


class _Unreadable(Exception):
    """A recorded problem stops the setting being read, back to ``Context.attempt``."""


@dataclass(slots=True)
class Context:
    """One file being read: its name, where its keys are, the problems found so far."""

    source: str
    locator: TomlLines
    problems: Problems = field(default_factory=Problems)

    def note(self, key: str | None, problem: str, suggestion: str | None = None) -> None:
        """Record a problem and read on."""
        line = self.locator.line_of(key)
        self.problems.add(Problem(key, problem, line, suggestion))

    def fail(self, key: str | None, problem: str, suggestion: str | None = None) -> NoReturn:
        """Record a problem the setting cannot be read past."""
        self.note(key, problem, suggestion)
        raise _Unreadable

    def attempt(self, read: Callable[[], _T], fallback: _T) -> _T:
        """``read()``, or ``fallback`` when it failed (the problem is recorded)."""
        try:
            return read()
        except _Unreadable:
            return fallback

    def clean_since(self, count: int) -> bool:
        """No problem found since there were ``count``: checks across settings run only on
        settings read cleanly, so one mistake is not reported again as another."""
        return len(self.problems) == count

    def finish(self) -> None:
        """Raise one ``PolicyError`` with every problem, in line order (those no line says,
        such as a missing stage, last), if there is any."""
        self.problems.raise_if_any(lambda found: PolicyError.of(_by_line(found), self.source))


def kind_of(value: object) -> str:
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


def shown(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        plain = len(repr(value)) <= 40 and not any(isinstance(v, dict | list) for v in value)
        return f"{toml_value(value)} (a list)" if plain else "a list"
    shown = toml_value(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return shown if isinstance(value, str) else f"{shown} ({kind_of(value)})"


def listing(choices: Sequence[str]) -> str:
    return ", ".join(choices)


class Table:
    """One TOML table, where it sits (``stage[1]``) and what it is called in messages."""

    __slots__ = ("context", "data", "label", "path")

    def __init__(self, context: Context, data: Mapping[str, Any], path: str, label: str) -> None:
        self.context = context
        self.data = data
        self.path = path
        self.label = label

    def key(self, name: str) -> str:
        return join_key(self.path, name)

    def fail(self, name: str, problem: str, suggestion: str | None = None) -> NoReturn:
        self.context.fail(self.key(name), problem, suggestion)

    def note(self, name: str, problem: str, suggestion: str | None = None) -> None:
        self.context.note(self.key(name), problem, suggestion)

    def attempt(self, read: Callable[[], _T], fallback: _T) -> _T:
        return self.context.attempt(read, fallback)

    def has(self, name: str) -> bool:
        return name in self.data

    def only(self, allowed: Sequence[str]) -> None:
        """Every unknown key is a problem; the known ones are still read."""
        for name in self.data:
            if name not in allowed:
                self.note(
                    name,
                    f'unknown key "{name}"',
                    f"{did_you_mean(name, allowed)}{self.label} takes {listing(allowed)}",
                )

    def require(self, name: str, example: str) -> None:
        if name not in self.data:
            self.fail(name, f"is missing from {self.label}; write {name} = {example}")

    def _typed(self, name: str, check: Callable[[object], bool], what: str, instead: str) -> Any:
        value = self.data[name]
        if not check(value):
            self.fail(name, f"expected {what}, got {shown(value)}; {instead}")
        return value

    def text(self, name: str, example: str) -> str:
        self.require(name, example)
        value: str = self._typed(name, _is_text, "text in quotes", f"write {name} = {example}")
        if not value.strip():
            self.fail(name, f"is empty; write {name} = {example}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        """A true/false setting; one that is not counts as a problem and as ``default``."""
        if name not in self.data:
            return default
        return self.attempt(
            lambda: bool(self._typed(name, _is_bool, "true or false", f"write {name} = true")),
            default,
        )

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
                    f"expected text in quotes, got {shown(item)}; write {name} = {example}",
                )
        return items

    def table(self, name: str, label: str, instead: str) -> Table:
        value: Mapping[str, Any] = self._typed(name, _is_table, "a table", instead)
        return Table(self.context, value, self.key(name), label)

    def tables(self, name: str, label: str, instead: str) -> list[Table]:
        items: list[Any] = self._typed(name, _is_list, f"a list of {label} tables", instead)
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                self.fail(f"{name}[{index}]", f"expected a table, got {shown(item)}; {instead}")
        return [
            Table(self.context, item, f"{self.key(name)}[{index}]", label)
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


def syntax_error(text: str, error: tomllib.TOMLDecodeError, source: str) -> PolicyError:
    message = str(error)
    found = re.search(r"\(at line (\d+), column \d+\)|\(at end of document\)", message)
    line = int(found.group(1)) if found and found.group(1) else max(1, len(text.splitlines()))
    what = message[: found.start()].strip() if found else message
    hint = next(
        (hint for prefix, hint in _SYNTAX_HINTS if what.startswith(prefix)),
        "see docs/policy.md for the layout",
    )
    return PolicyError(f"not valid TOML ({what}); {hint}", line=line, key=None, source=source)
