"""Change fan-out: "environment E is at revision R" and "token T was revoked" reach
every listener of every server instance.

``LocalBus`` serves one process (SQLite). ``PostgresBus`` (``postgres_bus``) uses
PostgreSQL's own LISTEN/NOTIFY: a commit anywhere NOTIFYs, and each instance's listener
thread hands the message to its local listeners — the origin included, so every
instance takes one path. It lives in a module of its own because it needs psycopg, which
only the ``postgres`` extra installs: a server on SQLite never imports it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from shipwise.server.ports import Change

log = logging.getLogger(__name__)
Listener = Callable[[Change], None]
RevocationListener = Callable[[int], None]
M = TypeVar("M", Change, int)


class LocalBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._revocation_listeners: list[RevocationListener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def subscribe_revocations(self, listener: RevocationListener) -> None:
        self._revocation_listeners.append(listener)

    def publish(self, changes: Sequence[Change]) -> None:
        for change in changes:
            self._deliver(change)

    def publish_revocation(self, token_id: int) -> None:
        self._revoked(token_id)

    def _deliver(self, change: Change) -> None:
        _call_each(self._listeners, change)

    def _revoked(self, token_id: int) -> None:
        _call_each(self._revocation_listeners, token_id)

    def close(self) -> None:
        self._listeners.clear()
        self._revocation_listeners.clear()


def _call_each(listeners: Sequence[Callable[[M], None]], message: M) -> None:
    for listener in list(listeners):
        try:
            listener(message)
        except Exception:
            log.exception("bus listener failed for %s", message)
