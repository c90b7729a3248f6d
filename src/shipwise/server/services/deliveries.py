"""A project's deliveries: what the outbox sent, or failed to send, to the project's
channels; listed by anyone on the project, sent again by hand by admins and release
managers (``manage-channels``).

Sending one again makes it due at once: its attempts are kept (a message given up after
its last attempt gets one more), and the next delivery round takes it first in its
channel's queue. The request is audited. An item of a daily digest (``digests.py``) is
listed under its channel; sending it again sends its whole digest again: every failed
item of that digest is made due with it, and they go as one email.

Server-wide notifiers (the log, the ``SHIPWISE_NOTIFY_WEBHOOK_URL`` webhook) belong to
the server's operator, not to a project: their items are not listed here (their
failures are in the server's log and in the ``delivery.failing`` notice).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shipwise.domain.access import Action
from shipwise.server.ports import (
    AuditStore,
    ChannelRecord,
    ChannelStore,
    Clocked,
    Delivery,
    DeliveryState,
    OutboxStore,
    Project,
    ProjectStore,
    StoreOf,
)
from shipwise.server.services import digests
from shipwise.server.services._common import audit, project_or_404
from shipwise.server.services.errors import Conflict, NotFound
from shipwise.server.services.notifications import CHANNEL_PREFIX
from shipwise.server.services.principal import Principal

FAILED = frozenset({DeliveryState.FAILING, DeliveryState.GIVEN_UP})
MAX_LISTED = 200


class DeliveryTx(OutboxStore, ChannelStore, ProjectStore, AuditStore, Clocked, Protocol):
    """The outbox, the project's channels it is read through, and the audit record."""


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: int
    channel: str  # the channel's name
    event: str  # the notification's kind, e.g. rollout.rolled-back
    title: str
    state: DeliveryState
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


def _view(delivery: Delivery, names: dict[str, str]) -> DeliveryView:
    return DeliveryView(
        delivery.id,
        names[delivery.channel],
        delivery.notification.kind,
        delivery.notification.title,
        delivery.state,
        delivery.attempts,
        delivery.last_error,
        delivery.next_attempt_at,
        delivery.delivered_at,
        delivery.created_at,
    )


def _names(channels: list[ChannelRecord]) -> dict[str, str]:
    """Outbox destination -> channel name, for the project's channels (and their
    digests)."""
    names = {f"{CHANNEL_PREFIX}{record.id}": record.name for record in channels}
    return names | {digests.destination(record.id): record.name for record in channels}


class DeliveryService:
    def __init__(self, store: StoreOf[DeliveryTx]) -> None:
        self._store = store

    def list(
        self,
        principal: Principal,
        project_key: str,
        states: Collection[DeliveryState] | None = None,
        limit: int = MAX_LISTED,
    ) -> list[DeliveryView]:
        """Newest first; ``states`` None: every state."""
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            names = _names(tx.list_channels(project.id))
            found = tx.list_deliveries(
                names, states or list(DeliveryState), max(1, min(limit, MAX_LISTED))
            )
            return [_view(delivery, names) for delivery in found]

    def retry(self, principal: Principal, project_key: str, delivery_id: int) -> DeliveryView:
        """Make a failing or given-up delivery due now."""
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.MANAGE_CHANNELS, project)
            names = _names(tx.list_channels(project.id))
            delivery = self._find(tx, project, names, delivery_id)
            if delivery.state is DeliveryState.DELIVERED:
                raise Conflict(
                    f"delivery {delivery_id} went out at {delivery.delivered_at}: "
                    "there is nothing to send again",
                    field="delivery",
                )
            tx.retry_delivery(delivery.id, tx.now())
            if digests.channel_id(delivery.channel) is not None:
                # A digest failed whole: its other failed items go again with this one.
                for other in tx.list_deliveries([delivery.channel], FAILED, MAX_LISTED):
                    tx.retry_delivery(other.id, tx.now())
            audit(
                tx,
                principal,
                "delivery.retry",
                "delivery",
                str(delivery.id),
                project=project.key,
                before={"state": delivery.state.value, "attempts": delivery.attempts},
                after={"channel": names[delivery.channel], "title": delivery.notification.title},
            )
            retried = tx.get_delivery(delivery.id)
            assert retried is not None  # found above, in this transaction
            return _view(retried, names)

    @staticmethod
    def _find(
        tx: OutboxStore, project: Project, names: dict[str, str], delivery_id: int
    ) -> Delivery:
        delivery = tx.get_delivery(delivery_id)
        if delivery is None or delivery.channel not in names:
            raise NotFound(
                f"no delivery {delivery_id} to a channel of project {project.key!r}; "
                "`shipwise channel deliveries` lists them",
                field="delivery",
            )
        return delivery
