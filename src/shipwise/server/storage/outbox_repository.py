"""The notification outbox: rows in, records out. Mixed into ``SqlTransaction`` so the
notifications of a change commit with it (a crash between acting and telling loses
nothing), and read back for the people who look at failed deliveries."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, false, func, or_, select, update
from sqlalchemy.orm import Session

from shipwise.server.ports import Delivery, DeliveryState, Notification, OutboxItem
from shipwise.server.storage.tables import OutboxRow


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# Each state as a condition on the row (the port's ``Delivery.state`` says the same).
_UNDELIVERED = OutboxRow.delivered_at.is_(None)
_STATE_WHERE: dict[DeliveryState, ColumnElement[bool]] = {
    DeliveryState.PENDING: and_(
        _UNDELIVERED, OutboxRow.next_attempt_at.is_not(None), OutboxRow.last_error.is_(None)
    ),
    DeliveryState.FAILING: and_(
        _UNDELIVERED, OutboxRow.next_attempt_at.is_not(None), OutboxRow.last_error.is_not(None)
    ),
    DeliveryState.GIVEN_UP: and_(_UNDELIVERED, OutboxRow.next_attempt_at.is_(None)),
    DeliveryState.DELIVERED: OutboxRow.delivered_at.is_not(None),
}


def _delivery(row: OutboxRow) -> Delivery:
    delivered = _utc(row.delivered_at)
    return Delivery(
        row.id,
        row.channel,
        Notification.from_dict(row.payload),
        _utc(row.created_at) or row.created_at,
        row.attempts,
        None if delivered is not None else _utc(row.next_attempt_at),
        delivered,
        row.last_error,
    )


class OutboxQueries:
    session: Session
    _now: Callable[[], datetime]

    def enqueue(
        self, channel: str, notification: Notification, due_at: datetime | None = None
    ) -> None:
        now = self._now()
        self.session.add(
            OutboxRow(
                channel=channel,
                payload=notification.to_dict(),
                created_at=now,
                attempts=0,
                next_attempt_at=now if due_at is None else due_at,
            )
        )

    def due_outbox(
        self, now: datetime, limit: int, per_destination: int | None = None
    ) -> list[OutboxItem]:
        due = (
            OutboxRow.delivered_at.is_(None),
            OutboxRow.next_attempt_at.is_not(None),
            OutboxRow.next_attempt_at <= now,
        )
        query = select(OutboxRow).where(*due)
        if per_destination is not None:
            # Each destination's place in its own queue (a window; SQLite 3.25+ has it).
            place = func.row_number().over(partition_by=OutboxRow.channel, order_by=OutboxRow.id)
            ranked = select(OutboxRow.id, place.label("place")).where(*due).subquery()
            query = query.join(ranked, ranked.c.id == OutboxRow.id).where(
                ranked.c.place <= per_destination
            )
        rows = self.session.scalars(query.order_by(OutboxRow.id).limit(limit))
        return [
            OutboxItem(
                row.id,
                row.channel,
                Notification.from_dict(row.payload),
                row.attempts,
                _utc(row.next_attempt_at) or now,
            )
            for row in rows
        ]

    def outbox_claim(self, item_id: int, now: datetime, until: datetime) -> bool:
        # One conditional UPDATE: of two instances claiming the same item, one wins.
        taken = self.session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.id == item_id,
                OutboxRow.delivered_at.is_(None),
                OutboxRow.next_attempt_at.is_not(None),
                OutboxRow.next_attempt_at <= now,
            )
            .values(next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(taken, "rowcount", 0) == 1)

    def outbox_delivered(self, item_id: int, at: datetime) -> None:
        row = self.session.get_one(OutboxRow, item_id)
        row.delivered_at = at
        row.attempts += 1
        row.last_error = None

    def outbox_failed(self, item_id: int, error: str, retry_at: datetime | None) -> None:
        row = self.session.get_one(OutboxRow, item_id)
        row.attempts += 1
        row.last_error = error[:2000]
        row.next_attempt_at = retry_at

    def list_deliveries(
        self, channels: Collection[str], states: Collection[DeliveryState], limit: int
    ) -> list[Delivery]:
        if not channels or not states:
            return []
        rows = self.session.scalars(
            select(OutboxRow)
            .where(
                OutboxRow.channel.in_(list(channels)),
                or_(false(), *(_STATE_WHERE[state] for state in states)),
            )
            .order_by(OutboxRow.id.desc())
            .limit(limit)
        )
        return [_delivery(row) for row in rows]

    def get_delivery(self, item_id: int) -> Delivery | None:
        row = self.session.get(OutboxRow, item_id)
        return _delivery(row) if row is not None else None

    def retry_delivery(self, item_id: int, at: datetime) -> None:
        row = self.session.get_one(OutboxRow, item_id)
        if row.delivered_at is None:
            row.next_attempt_at = at
