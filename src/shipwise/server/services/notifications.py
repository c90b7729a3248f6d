"""Telling people: notifications go into an outbox in the same transaction as what they
report, and are delivered afterwards by every configured notifier, with retries.

A crash after a rollback but before the webhook went out loses nothing: the outbox row
committed with the rollback, and the next delivery round sends it. A notifier that is
down is retried with growing pauses, then given up on (the failure stays recorded).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Protocol

from shipwise.server.ports import (
    Clocked,
    Notification,
    NotificationFailed,
    Notifier,
    OutboxStore,
    StoreOf,
)

log = logging.getLogger(__name__)

# Pauses before the 2nd, 3rd, ... attempt; after the last, the notification is given up.
RETRY_AFTER = (
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)


class OutboxTx(OutboxStore, Clocked, Protocol):
    """What delivering touches: the outbox, and the store's clock that says what is due
    and when it went out."""


class Notifications:
    def __init__(self, store: StoreOf[OutboxTx], notifiers: Mapping[str, Notifier]) -> None:
        self._store = store
        self._notifiers = dict(notifiers)

    @property
    def channels(self) -> list[str]:
        return sorted(self._notifiers)

    def announce(self, tx: OutboxStore, notification: Notification) -> None:
        """Queue ``notification`` for every channel, inside the caller's transaction."""
        for channel in self._notifiers:
            tx.enqueue(channel, notification)

    def deliver_due(self, limit: int = 100) -> int:
        """Send what is due; returns how many were delivered."""
        with self._store.read() as tx:
            now = tx.now()
            due = tx.due_outbox(now, limit)
        delivered = 0
        for item in due:
            notifier = self._notifiers.get(item.channel)
            error: str | None = None
            if notifier is None:
                error = f"no notifier {item.channel!r} is configured any more"
            else:
                try:
                    notifier.send(item.notification)
                except NotificationFailed as failure:
                    error = str(failure)
                except Exception as failure:  # a notifier bug must not stop the others
                    log.exception("notifier %s failed", item.channel)
                    error = f"{type(failure).__name__}: {failure}"
            with self._store.transaction() as tx:
                if error is None:
                    tx.outbox_delivered(item.id, tx.now())  # when it went out, after sending
                    delivered += 1
                    continue
                retry = (
                    now + RETRY_AFTER[item.attempts] if item.attempts < len(RETRY_AFTER) else None
                )
                tx.outbox_failed(item.id, error, retry)
                log.warning(
                    "notification %r to %s failed (attempt %d): %s%s",
                    item.notification.title,
                    item.channel,
                    item.attempts + 1,
                    error,
                    "" if retry else "; giving up",
                )
        return delivered
