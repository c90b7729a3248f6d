"""In-app announcements and the users who dismissed them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shipwise.domain.announcements import Announcement, AnnouncementDraft


@dataclass(frozen=True, slots=True)
class NewAnnouncement:
    """What ``add_announcement`` stores: a checked draft, where it belongs (by id), its
    rendered HTML, and who made it when."""

    project_id: int
    release_id: int
    environment_id: int
    draft: AnnouncementDraft
    html: str
    created_by: str
    created_at: datetime


class AnnouncementStore(Protocol):
    def add_announcement(self, new: NewAnnouncement) -> Announcement: ...
    def get_announcement(self, project_id: int, announcement_id: int) -> Announcement | None: ...
    def list_announcements(
        self, project_id: int, release_id: int | None = None
    ) -> list[Announcement]:
        """Oldest first; only the release's when ``release_id`` is given."""
        ...

    def announcements_until(self, environment_id: int, after: datetime) -> list[Announcement]:
        """The environment's announcements that end after ``after`` (showing, or still to
        come), oldest first: what SDKs and browsers are served."""
        ...

    def announcement_environment(self, announcement_id: int) -> int | None:
        """The environment an announcement is for (None: no such announcement)."""
        ...

    def end_announcement(self, announcement_id: int, by: str, at: datetime) -> None:
        """Make ``at`` its end (ended early by ``by``)."""
        ...

    def remove_announcement(self, announcement_id: int) -> None:
        """Delete it and its dismissals."""
        ...

    def add_dismissal(self, announcement_id: int, user_id: str, at: datetime) -> bool:
        """Remember that ``user_id`` dismissed it; False when they had already."""
        ...

    def dismissed(self, user_id: str, announcement_ids: Collection[int]) -> set[int]:
        """Which of ``announcement_ids`` ``user_id`` dismissed."""
        ...
