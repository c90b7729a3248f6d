"""What ``Client`` looks a flag up to: its evaluators and its counters in one ``_Entry``,
and the not-ready state (``_NOT_READY``) an online client starts in.

Until the first snapshot ``Client._entries`` is ``_NOT_READY``, which hands every name
one entry whose evaluators raise (so the caller gets its default) and whose counters
count nothing; the first snapshot replaces it in one reference swap (``_client``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shipwise.engine import Explanation, Reason, Variant
from shipwise.engine.context import Context
from shipwise.engine.variants import DISABLED
from shipwise.sdk._exposures import FlagCounters
from shipwise.sdk._sentry import Record, recorded

NOT_READY_MESSAGE = "not ready: no snapshot yet"


class _Entry:
    """A flag's evaluator and its counters, fetched with one dict lookup."""

    __slots__ = ("check", "count_variant", "error", "no", "variant", "yes")
    yes: Callable[[], object]
    no: Callable[[], object]
    error: Callable[[], object]
    count_variant: Callable[[str], object]

    def __init__(
        self,
        check: Callable[[Context], bool],
        variant: Callable[[Context], Variant],
        counters: FlagCounters | None,
        record: tuple[str, Record] | None = None,
    ) -> None:
        self.check = check
        self.variant = variant
        if counters is None:
            self.yes = self.no = self.error = _count_nothing
            self.count_variant = _count_nothing
            return
        self.yes, self.no, self.error = counters.yes, counters.no, counters.error
        self.count_variant = counters.variant
        if record is not None:
            # Recording rides on the counting: every "on" and "off" that is counted is
            # also told to Sentry, and a client without Sentry pays nothing for it.
            name, to_sentry = record
            self.yes = recorded(counters.yes, name, True, to_sentry)
            self.no = recorded(counters.no, name, False, to_sentry)


def _count_nothing(*_: object) -> None:
    """The counters of the not-ready entry."""


class _NoSnapshotYet(Exception):
    """Raised by the not-ready entry's evaluators: the caller gets its default."""


def _no_snapshot_yet(_context: Context) -> Any:
    raise _NoSnapshotYet


class _NotReady(dict[str, _Entry]):
    """``Client._entries`` until the first snapshot: empty, and every name gets the one
    entry that gives the default and counts nothing."""

    __slots__ = ()

    def get(self, _name: str, _default: object = None) -> _Entry:
        return _NOT_READY_ENTRY


_NOT_READY_ENTRY = _Entry(_no_snapshot_yet, _no_snapshot_yet, None)
_NOT_READY = _NotReady()


def _not_ready(name: str, default: bool) -> Explanation:
    return Explanation(
        name,
        default,
        DISABLED,
        Reason.NOT_READY,
        f"{NOT_READY_MESSAGE}; the default ({default}) applies until the first snapshot "
        "arrives (see wait_until_ready)",
    )
