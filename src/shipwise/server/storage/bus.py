"""Change fan-out: "environment E is at revision R" reaches every listener of every
server instance.

``LocalBus`` serves one process (SQLite). ``PostgresBus`` uses PostgreSQL's own
LISTEN/NOTIFY: a commit anywhere NOTIFYs, and each instance's listener thread hands the
change to its local listeners — the origin included, so every instance takes one path.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import psycopg

from shipwise.server.ports import Change

log = logging.getLogger(__name__)
CHANNEL = "shipwise_changes"
Listener = Callable[[Change], None]


class LocalBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def publish(self, changes: Sequence[Change]) -> None:
        for change in changes:
            self._deliver(change)

    def _deliver(self, change: Change) -> None:
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:
                log.exception("change listener failed for %s", change)

    def close(self) -> None:
        self._listeners.clear()


def _psycopg_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


class PostgresBus(LocalBus):
    def __init__(self, sqlalchemy_url: str) -> None:
        super().__init__()
        self._url = _psycopg_url(sqlalchemy_url)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._sender_lock = threading.Lock()
        self._sender: psycopg.Connection | None = None
        self._thread = threading.Thread(target=self._listen, name="shipwise-listen", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("could not LISTEN on PostgreSQL within 10 s")

    def publish(self, changes: Sequence[Change]) -> None:
        payloads = [f"{c.environment_id}:{c.revision}" for c in changes]
        with self._sender_lock:
            if self._sender is None or self._sender.closed:
                self._sender = psycopg.connect(self._url, autocommit=True)
            for payload in payloads:
                self._sender.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    while not self._stop.is_set():
                        for notice in connection.notifies(timeout=0.5, stop_after=None):
                            environment_id, revision = notice.payload.split(":")
                            self._deliver(Change(int(environment_id), int(revision)))
            except psycopg.OperationalError:
                if not self._stop.is_set():
                    log.warning("lost the PostgreSQL LISTEN connection; reconnecting")
                    self._stop.wait(1)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with self._sender_lock:
            if self._sender is not None:
                self._sender.close()
        super().close()
