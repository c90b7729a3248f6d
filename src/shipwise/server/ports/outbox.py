"""The notification outbox: written in the unit of work that decided to notify,
delivered (and retried) afterwards by the runner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shipwise.server.ports.notify import Notification


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    channel: str
    notification: Notification
    attempts: int
    next_attempt_at: datetime


class OutboxStore(Protocol):
    def enqueue(self, channel: str, notification: Notification) -> None:
        """Due at once (the store's clock)."""
        ...

    def due_outbox(self, now: datetime, limit: int) -> list[OutboxItem]:
        """Undelivered items due at or before ``now``, oldest first."""
        ...

    def outbox_delivered(self, item_id: int, at: datetime) -> None: ...
    def outbox_failed(self, item_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt; ``retry_at`` None gives up."""
        ...
