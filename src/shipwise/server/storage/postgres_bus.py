"""``PostgresBus``: the change bus across server instances, on PostgreSQL's LISTEN/NOTIFY.

A commit anywhere NOTIFYs, and each instance's listener thread hands the message to its
local listeners (see ``bus``), the origin included, so every instance takes one path.
Revocations have a channel of their own, so an instance that predates them never sees
a payload it cannot read; one LISTEN connection hears both, in commit order.

Only ``bootstrap`` imports this module, and only for a PostgreSQL URL: psycopg comes
with the ``postgres`` extra, and a server on SQLite must run without it.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from collections.abc import Sequence

import psycopg

from shipwise.server.ports import Change
from shipwise.server.storage.bus import LocalBus

log = logging.getLogger(__name__)
CHANNEL = "shipwise_changes"
REVOCATIONS = "shipwise_revocations"


def _change(payload: str) -> Change:
    environment_id, revision = payload.split(":")
    return Change(int(environment_id), int(revision))


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
        # This instance's own channel, on which close() wakes its listener at once
        # rather than after the listener's next half-second look at the stop flag.
        self._wake = f"shipwise_wake_{secrets.token_hex(8)}"
        self._thread = threading.Thread(target=self._listen, name="shipwise-listen", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("could not LISTEN on PostgreSQL within 10 s")

    def publish(self, changes: Sequence[Change]) -> None:
        self._notify(CHANNEL, [f"{c.environment_id}:{c.revision}" for c in changes])

    def publish_revocation(self, token_id: int) -> None:
        self._notify(REVOCATIONS, [str(token_id)])

    def _notify(self, channel: str, payloads: Sequence[str]) -> None:
        with self._sender_lock:
            try:
                self._send(channel, payloads)
            except psycopg.OperationalError:
                # The kept connection dies with a PostgreSQL restart and says so only
                # when used: one try on a fresh one (a repeated payload is harmless).
                if self._sender is not None:
                    self._sender.close()
                self._sender = None
                self._send(channel, payloads)

    def _send(self, channel: str, payloads: Sequence[str]) -> None:
        if self._sender is None or self._sender.closed:
            self._sender = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
        for payload in payloads:
            self._sender.execute("SELECT pg_notify(%s, %s)", (channel, payload))

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    connection.execute(f"LISTEN {REVOCATIONS}")
                    connection.execute(f"LISTEN {self._wake}")
                    self._ready.set()
                    while not self._stop.is_set():
                        heard = connection.notifies(timeout=0.5, stop_after=None)
                        for notice in heard:
                            if notice.channel == self._wake:
                                heard.close()  # close() woke us: look at the stop flag now
                                break
                            self._heard(notice.channel, notice.payload)
            except psycopg.OperationalError:
                if not self._stop.is_set():
                    log.warning("lost the PostgreSQL LISTEN connection; reconnecting")
                    self._stop.wait(1)

    def _heard(self, channel: str, payload: str) -> None:
        # A payload this version cannot read (another version's, a NOTIFY by hand) is
        # logged and skipped: it must not end the listener thread.
        try:
            message = int(payload) if channel == REVOCATIONS else _change(payload)
        except ValueError:
            log.warning("ignoring an unreadable NOTIFY on %s: %r", channel, payload[:100])
            return
        if isinstance(message, Change):
            self._deliver(message)
        else:
            self._revoked(message)

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(psycopg.Error):  # if PostgreSQL is gone, the listener
            self._notify(self._wake, [""])  # stops at its next timeout instead
        self._thread.join(timeout=5)
        with self._sender_lock:
            if self._sender is not None:
                self._sender.close()
        super().close()
