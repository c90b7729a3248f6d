"""Calendar feed links: a secret address a calendar app subscribes to (it cannot send an
Authorization header), showing a project's monitoring schedules. Only a hash of the
link's token is stored, as for api tokens: a copy of the database opens no feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CalendarFeedRecord:
    id: int
    project_id: int
    name: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None
    # The api token it was made with: the link lives no longer than that token does
    # (revoked, expired), as a dashboard session; None when made on the server's host.
    token_id: int | None = None


class CalendarFeedStore(Protocol):
    def add_calendar_feed(
        self, project_id: int, name: str, token_hash: str, created_by: str, token_id: int | None
    ) -> CalendarFeedRecord:
        """Stamped by the store's clock."""
        ...

    def list_calendar_feeds(self, project_id: int) -> list[CalendarFeedRecord]:
        """The project's feed links, revoked ones included, in the order they were made."""
        ...

    def get_calendar_feed(self, feed_id: int) -> CalendarFeedRecord | None: ...
    def calendar_feed_by_hash(self, token_hash: str) -> CalendarFeedRecord | None:
        """The link whose token hashes to ``token_hash`` (one indexed lookup), revoked or not."""
        ...

    def revoke_calendar_feed(self, feed_id: int) -> CalendarFeedRecord | None:
        """Stamp it revoked now (the store's clock); None when there is none."""
        ...
