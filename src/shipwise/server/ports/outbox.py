"""The notification outbox: written in the unit of work that decided to notify,
delivered (and retried) afterwards by the delivery loop (``worker.py``).

An item is *pending* until its first attempt, *failing* while an attempt failed and
another is scheduled, *given up* when no attempt is scheduled any more, and *delivered*.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
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


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    FAILING = "failing"
    GIVEN_UP = "given-up"
    DELIVERED = "delivered"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox item as a person looks at it: where to, what, how it went."""

    id: int
    channel: str  # "log", "webhook", or "channel:<id>"
    notification: Notification
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None  # None: given up (or delivered)
    delivered_at: datetime | None
    last_error: str | None

    @property
    def state(self) -> DeliveryState:
        if self.delivered_at is not None:
            return DeliveryState.DELIVERED
        if self.next_attempt_at is None:
            return DeliveryState.GIVEN_UP
        return DeliveryState.FAILING if self.last_error is not None else DeliveryState.PENDING


class OutboxStore(Protocol):
    def enqueue(
        self, channel: str, notification: Notification, due_at: datetime | None = None
    ) -> None:
        """Due at once (the store's clock), or at ``due_at`` (a digest's time)."""
        ...

    def due_outbox(
        self, now: datetime, limit: int, per_destination: int | None = None
    ) -> list[OutboxItem]:
        """Undelivered items due at or before ``now``, oldest first; with
        ``per_destination``, only each destination's oldest that many (so a channel that
        is down with a long backlog leaves room for the others)."""
        ...

    def outbox_claim(self, item_id: int, now: datetime, until: datetime) -> bool:
        """Take a due item for one attempt: its next attempt moves to ``until``, so no
        other instance (one that took the runner's lease while this one was sending)
        reads it as due meanwhile. False: it is not due any more (delivered, or taken)."""
        ...

    def outbox_delivered(self, item_id: int, at: datetime) -> None: ...
    def outbox_failed(self, item_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt; ``retry_at`` None gives up."""
        ...

    def list_deliveries(
        self, channels: Collection[str], states: Collection[DeliveryState], limit: int
    ) -> list[Delivery]:
        """Items for these destinations in these states, newest first."""
        ...

    def get_delivery(self, item_id: int) -> Delivery | None: ...
    def retry_delivery(self, item_id: int, at: datetime) -> None:
        """Make an undelivered item due at ``at`` (its attempts and last error kept)."""
        ...
