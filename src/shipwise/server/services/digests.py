"""Daily digests: what ``Notifications`` needs to queue and send an email channel's
digest (issue 14: "per event or a daily digest per subscription").

An event a channel hears only through its digest subscriptions is queued to the
destination ``digest:<channel id>``, due at the digest's next time in the policy's time
zone (``domain.digests.next_digest_at``); it is deduplicated per destination like any
other. When they are due, ``Notifications`` takes every due item of that destination
(not only a round's ``PER_DESTINATION``), claims them all in one transaction, sends them
as one email and records them delivered, or failed, together: a digest is retried
whole. Retrying one of its items by hand (``deliveries.py``) makes every undelivered
item of the digest due, so the digest goes again as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shipwise.domain.digests import digest_day, next_digest_at
from shipwise.server.ports import (
    DeliveryState,
    Digest,
    OutboxItem,
    OutboxStore,
    Project,
)
from shipwise.server.services.project_policy import PolicyReader, project_policy

DIGEST_PREFIX = "digest:"
MAX_ITEMS = 500  # events in one digest; more go in the next one, minutes later
_WAITING = (DeliveryState.PENDING, DeliveryState.FAILING)


def destination(channel_id: int) -> str:
    return f"{DIGEST_PREFIX}{channel_id}"


def channel_id(destination: str) -> int | None:
    """The channel a digest destination belongs to; None for any other destination."""
    if not destination.startswith(DIGEST_PREFIX):
        return None
    return int(destination.removeprefix(DIGEST_PREFIX))


def timezone_of(tx: PolicyReader, project: Project) -> str:
    """The policy's time zone: where a digest's "09:00" and its dates are."""
    return project_policy(tx, project).timezone


def due_at(heard_at: datetime, at: str, timezone: str) -> datetime:
    """When the digest that takes an event heard at ``heard_at`` goes out."""
    return next_digest_at(heard_at, at, timezone)


def due_items(tx: OutboxStore, where: str, now: datetime) -> list[OutboxItem]:
    """Every undelivered item of the digest ``where`` that is due at ``now``, oldest
    first: the whole digest, not a delivery round's share of it."""
    waiting = tx.list_deliveries([where], _WAITING, MAX_ITEMS)
    due = [
        OutboxItem(d.id, d.channel, d.notification, d.attempts, d.next_attempt_at)
        for d in waiting
        if d.next_attempt_at is not None and d.next_attempt_at <= now
    ]
    return sorted(due, key=lambda item: item.id)


def compose(project: str, timezone: str, items: Sequence[OutboxItem], now: datetime) -> Digest:
    return Digest(
        project=project,
        day=digest_day(now, timezone),
        timezone=timezone,
        items=tuple(item.notification for item in items),
    )
