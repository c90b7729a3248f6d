"""Problems found in untrusted input, each with where it is and what to write instead.

    Problem(path, message, line=None, suggestion=None)   one mistake
    Problems()                                          the collector: ``add`` each one,
                                                        then ``raise_if_any`` once
    closest(word, choices) / did_you_mean(word, choices) "did you mean ...?" help

A reader that collects (``domain.policy_reading``, ``domain.plan_format``) adds every
problem it finds and goes on with a fallback, so one round trip fixes a whole file.
The engine's snapshot reader (``engine._reading``) uses ``Problem`` for its one error
but stops at the first: see the note there.

Pure: the standard library only (``difflib`` for the suggestions).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

__all__ = ["Problem", "Problems", "closest", "did_you_mean"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake. ``path`` is where it sits (``stage[1].approvals.count``; None when it
    concerns the whole input), ``line`` the 1-based line of a text file (None when no line
    says it), ``suggestion`` what to write instead, when it stands apart from ``message``."""

    path: str | None
    message: str
    line: int | None = None
    suggestion: str | None = None

    @property
    def text(self) -> str:
        """The message and the suggestion, as one sentence."""
        return self.message if self.suggestion is None else f"{self.message}; {self.suggestion}"


class Problems:
    """Collects problems in the order they are found. ``raise_if_any(error)`` raises
    ``error(problems)`` when there is at least one, so the caller decides the exception."""

    __slots__ = ("_found",)

    def __init__(self) -> None:
        self._found: list[Problem] = []

    def add(self, problem: Problem) -> None:
        self._found.append(problem)

    def __len__(self) -> int:
        return len(self._found)

    def __bool__(self) -> bool:
        return bool(self._found)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._found)

    def raise_if_any(self, error: Callable[[tuple[Problem, ...]], Exception]) -> None:
        if self._found:
            raise error(tuple(self._found))


def closest(word: str, choices: Sequence[str]) -> str | None:
    """The choice ``word`` probably meant: the same but for case, one it begins
    ("prod" → "production"), or one with similar letters; None when none is close."""
    lowered = word.lower()
    close = [c for c in choices if c.lower() == lowered]
    close += [c for c in choices if len(word) >= 3 and c.lower().startswith(lowered)]
    close += difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """``did you mean "production"? `` (with the trailing space), or "" when nothing is close."""
    close = closest(word, choices)
    return f'did you mean "{close}"? ' if close else ""
