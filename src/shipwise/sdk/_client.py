"""The Python SDK client: evaluates flags in-process from a compiled snapshot.

Evaluation never raises: an unknown flag, an odd context or a broken rule gives the
default (and ``explain`` gives the reason). Every ``is_enabled`` and ``get_variant``
counts an exposure.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from shipwise.engine import Explanation, Snapshot, SnapshotError, Variant
from shipwise.engine.compiler import CompiledFlag
from shipwise.engine.context import EMPTY_CONTEXT, Context
from shipwise.engine.variants import DISABLED
from shipwise.sdk._exposures import FlagCounters, FlagExposure

Source = Mapping[str, Any] | str | PathLike[str]


class _Entry:
    """A flag's evaluator and its counters, fetched with one dict lookup."""

    __slots__ = ("check", "counters", "error", "flag", "no", "yes")

    def __init__(self, flag: CompiledFlag, counters: FlagCounters) -> None:
        self.flag = flag
        self.check = flag.is_on
        self.counters = counters
        self.yes, self.no, self.error = counters.yes, counters.no, counters.error


def _read_json(source: Source) -> Any:
    if isinstance(source, Mapping):
        return source
    text = Path(source).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except ValueError as error:
        raise SnapshotError(str(source), "", f"is not valid JSON: {error}") from None


class Client:
    """Evaluate flags. Build one with ``Client.offline`` or ``Client.from_unleash``."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._lock = threading.Lock()  # guards snapshot replacement, never evaluation
        self._counters: dict[str, FlagCounters] = {}
        self._unknown: dict[str, FlagCounters] = {}
        self._snapshot = snapshot
        self._entries: dict[str, _Entry] = {}
        self._install(snapshot)

    # -- construction ---------------------------------------------------------------

    @classmethod
    def offline(cls, source: Source) -> Client:
        """A client over a Shipwise snapshot (a dict, or the path of a JSON file).

        Raises ``SnapshotError`` naming the flag and field if the snapshot is malformed.
        """
        return cls(Snapshot.load(_read_json(source)))

    @classmethod
    def from_unleash(cls, state: Source) -> Client:
        """A client over an Unleash client-API state: a features document (with optional
        segments) or delta events, as a dict or the path of a JSON file."""
        return cls(Snapshot.from_unleash(_read_json(state)))

    def _install(self, snapshot: Snapshot) -> None:
        with self._lock:
            entries = {}
            for name, flag in snapshot.flags.items():
                counters = self._counters.get(name)
                if counters is None:
                    counters = self._counters[name] = FlagCounters()
                entries[name] = _Entry(flag, counters)
            self._snapshot = snapshot
            self._entries = entries  # one reference swap: readers see old or new, whole

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    # -- evaluation -----------------------------------------------------------------

    def is_enabled(self, name: str, context: Context | None = None, default: bool = False) -> bool:
        entry = self._entries.get(name)
        if entry is None:
            self._count_unknown(name, default)
            return default
        try:
            if entry.check(EMPTY_CONTEXT if context is None else context):
                entry.yes()
                return True
        except Exception:
            entry.error()
            return default
        entry.no()
        return False

    def get_variant(self, name: str, context: Context | None = None) -> Variant:
        entry = self._entries.get(name)
        if entry is None:
            self._count_unknown(name, False)
            return DISABLED
        try:
            variant = entry.flag.variant(EMPTY_CONTEXT if context is None else context)
        except Exception:
            entry.error()
            return DISABLED
        (entry.yes if variant.feature_enabled else entry.no)()
        entry.counters.variant(variant.name)
        return variant

    def explain(
        self, name: str, context: Context | None = None, default: bool = False
    ) -> Explanation:
        """The value ``is_enabled`` would return, its variant, and why. Not counted."""
        return self._snapshot.explain(name, context, default)

    # -- exposures ------------------------------------------------------------------

    def _count_unknown(self, name: str, answer: bool) -> None:
        counters = self._unknown.get(name)
        if counters is None:
            counters = self._unknown.setdefault(name, FlagCounters())
        (counters.yes if answer else counters.no)()

    def exposures(self) -> dict[str, FlagExposure]:
        """Evaluations per flag since start (flags that were asked for, known or not)."""
        totals = {name: c.read() for name, c in list(self._counters.items())}
        totals.update((name, c.read()) for name, c in list(self._unknown.items()))
        return {name: t for name, t in totals.items() if t.yes or t.no or t.errors}

    def unknown_flags(self) -> list[str]:
        """Names the application asked for that the snapshot does not have."""
        return sorted(self._unknown)
