"""Calendar feed links, in memory."""

from __future__ import annotations

from dataclasses import replace

from shipwise.server.ports.calendar_feeds import CalendarFeedRecord
from shipwise.server.ports.memory.base import MemoryBase
from shipwise.server.ports.memory.tables import utc


class CalendarFeedQueries(MemoryBase):
    def add_calendar_feed(
        self, project_id: int, name: str, token_hash: str, created_by: str, token_id: int | None
    ) -> CalendarFeedRecord:
        if any(h == token_hash for _, h in self._t.calendar_feeds.values()):
            raise ValueError("token hash taken")  # the SQL store's unique index
        record = CalendarFeedRecord(
            self._t.next_id("calendar_feeds"),
            project_id,
            name,
            created_by,
            utc(self._now()),
            token_id=token_id,
        )
        self._t.calendar_feeds[record.id] = (record, token_hash)
        return record

    def list_calendar_feeds(self, project_id: int) -> list[CalendarFeedRecord]:
        return [r for r, _ in self._t.calendar_feeds.values() if r.project_id == project_id]

    def get_calendar_feed(self, feed_id: int) -> CalendarFeedRecord | None:
        found = self._t.calendar_feeds.get(feed_id)
        return None if found is None else found[0]

    def calendar_feed_by_hash(self, token_hash: str) -> CalendarFeedRecord | None:
        return next((r for r, h in self._t.calendar_feeds.values() if h == token_hash), None)

    def revoke_calendar_feed(self, feed_id: int) -> CalendarFeedRecord | None:
        found = self._t.calendar_feeds.get(feed_id)
        if found is None:
            return None
        record, token_hash = found
        if record.revoked_at is None:
            record = replace(record, revoked_at=utc(self._now()))
            self._t.calendar_feeds[feed_id] = (record, token_hash)
        return record
