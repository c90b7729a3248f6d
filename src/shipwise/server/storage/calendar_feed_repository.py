"""Calendar feed links: rows in, records out. Mixed into ``SqlTransaction``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipwise.server.ports.calendar_feeds import CalendarFeedRecord
from shipwise.server.storage.calendar_tables import CalendarFeedRow
from shipwise.server.storage.timestamps import utc


def _feed(row: CalendarFeedRow) -> CalendarFeedRecord:
    return CalendarFeedRecord(
        row.id,
        row.project_id,
        row.name,
        row.created_by,
        utc(row.created_at),
        None if row.revoked_at is None else utc(row.revoked_at),
        row.token_id,
    )


class CalendarFeedQueries:
    session: Session
    _now: Callable[[], datetime]

    def add_calendar_feed(
        self, project_id: int, name: str, token_hash: str, created_by: str, token_id: int | None
    ) -> CalendarFeedRecord:
        row = CalendarFeedRow(
            project_id=project_id,
            name=name,
            token_hash=token_hash,
            created_by=created_by,
            token_id=token_id,
            created_at=self._now(),
        )
        self.session.add(row)
        self.session.flush()
        return _feed(row)

    def list_calendar_feeds(self, project_id: int) -> list[CalendarFeedRecord]:
        rows = self.session.scalars(
            select(CalendarFeedRow)
            .where(CalendarFeedRow.project_id == project_id)
            .order_by(CalendarFeedRow.id)
        )
        return [_feed(row) for row in rows]

    def get_calendar_feed(self, feed_id: int) -> CalendarFeedRecord | None:
        row = self.session.get(CalendarFeedRow, feed_id)
        return None if row is None else _feed(row)

    def calendar_feed_by_hash(self, token_hash: str) -> CalendarFeedRecord | None:
        row = self.session.scalars(
            select(CalendarFeedRow).where(CalendarFeedRow.token_hash == token_hash)
        ).first()
        return None if row is None else _feed(row)

    def revoke_calendar_feed(self, feed_id: int) -> CalendarFeedRecord | None:
        row = self.session.get(CalendarFeedRow, feed_id)
        if row is None:
            return None
        if row.revoked_at is None:
            row.revoked_at = self._now()
            self.session.flush()
        return _feed(row)
