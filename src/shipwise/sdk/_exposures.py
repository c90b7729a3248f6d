"""Exposure counting: how often each flag answered on/off and each variant was served.

On the evaluation hot path, so counting is one C-level call: ``itertools.count`` is
advanced with its bound ``__next__``, which is atomic under the GIL (no lock, no lost
counts between threads). Counters only grow; readers take differences between reads,
which is how the metrics sender (``_metrics``) reports per interval.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any


def _value(counter: itertools.count[int]) -> int:
    # count objects expose their next value only through repr: "count(42)".
    return int(repr(counter)[6:-1])


class FlagCounters:
    __slots__ = ("_errors", "_no", "_variants", "_yes", "error", "no", "yes")

    def __init__(self) -> None:
        self._yes, self._no, self._errors = itertools.count(), itertools.count(), itertools.count()
        self.yes = self._yes.__next__
        self.no = self._no.__next__
        self.error = self._errors.__next__
        self._variants: dict[str, itertools.count[int]] = {}

    def variant(self, name: str) -> None:
        counter = self._variants.get(name)
        if counter is None:
            counter = self._variants.setdefault(name, itertools.count())
        next(counter)

    def read(self) -> FlagExposure:
        return FlagExposure(
            yes=_value(self._yes),
            no=_value(self._no),
            errors=_value(self._errors),
            variants={name: _value(c) for name, c in list(self._variants.items())},
        )


@dataclass(frozen=True, slots=True)
class FlagExposure:
    """Totals since the client started."""

    yes: int
    no: int
    errors: int = 0
    variants: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "yes": self.yes,
            "no": self.no,
            "errors": self.errors,
            "variants": dict(self.variants),
        }


def combine(first: FlagExposure, second: FlagExposure) -> FlagExposure:
    """Both counts together: a flag asked for while unknown, and again once it arrived."""
    variants = dict(first.variants)
    for name, count in second.variants.items():
        variants[name] = variants.get(name, 0) + count
    return FlagExposure(
        yes=first.yes + second.yes,
        no=first.no + second.no,
        errors=first.errors + second.errors,
        variants=variants,
    )
