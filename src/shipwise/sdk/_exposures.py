"""Exposure counting: how often each flag answered on/off and each variant was served.

On the evaluation hot path, so counting is one C-level call: ``itertools.count`` is
advanced with its bound ``__next__``, which is atomic under the GIL (no lock, no lost
counts between threads). Counters only grow; readers take differences between reads,
which is how the metrics sender (``_metrics``) reports per interval.

Names the snapshot does not have are counted too (``UnknownFlags``), up to
``MAX_UNKNOWN_FLAGS`` distinct names: an application that builds flag names from input
would otherwise grow that table for as long as it runs.
"""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("shipwise.sdk")

MAX_UNKNOWN_FLAGS = 1_000  # distinct unknown names kept and counted by one client


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


class UnknownFlags:
    """Counts for the names asked for that the snapshot does not have.

    The first ``limit`` distinct names are kept and counted like flags (so the server
    hears how often a missing flag was asked for). Evaluations of names past the cap
    give the default as always and are counted in ``overflow``, unnamed; the first one
    logs a warning. A name already kept costs one dict lookup; only a new name takes the
    lock, so the cap holds under threads."""

    __slots__ = ("_counters", "_limit", "_lock", "_overflow", "_warned", "overflow_count")

    def __init__(self, limit: int = MAX_UNKNOWN_FLAGS) -> None:
        self._counters: dict[str, FlagCounters] = {}
        self._limit = limit
        self._lock = threading.Lock()
        self._overflow = itertools.count()
        self.overflow_count = self._overflow.__next__
        self._warned = False

    def count(self, name: str, answer: bool) -> None:
        if name.__class__ is not str:  # a name JSON cannot carry would stop every batch
            return
        counters = self._counters.get(name) or self._add(name)
        if counters is None:
            self.overflow_count()
            return
        (counters.yes if answer else counters.no)()

    def _add(self, name: str) -> FlagCounters | None:
        if self._warned:  # full (it never shrinks): no lock for every name past the cap
            return None
        with self._lock:
            counters = self._counters.get(name)
            if counters is not None:
                return counters
            if len(self._counters) < self._limit:
                counters = self._counters[name] = FlagCounters()
                return counters
            warn, self._warned = not self._warned, True
        if warn:
            log.warning(
                "shipwise: %d distinct unknown flag names asked for; further unknown names "
                "give their default and are counted without their names (is a flag name "
                "built from input?)",
                self._limit,
            )
        return None

    @property
    def overflow(self) -> int:
        """Evaluations of unknown names that were not kept (past the cap)."""
        return _value(self._overflow)

    def read(self) -> dict[str, FlagExposure]:
        return {name: c.read() for name, c in list(self._counters.items())}

    def names(self) -> list[str]:
        return list(self._counters)
