"""In-app announcements and their dismissals, in memory."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from shipwise.domain.announcements import Announcement
from shipwise.server.ports.announcements import NewAnnouncement
from shipwise.server.ports.memory.base import MemoryBase
from shipwise.server.ports.memory.tables import utc


class AnnouncementQueries(MemoryBase):
    def _keys(self, project_id: int, release_id: int, environment_id: int) -> tuple[str, ...]:
        release = self._t.releases[release_id][1]
        return (
            self._t.projects[project_id].key,
            release.key,
            self._t.environments[environment_id].key,
        )

    def add_announcement(self, new: NewAnnouncement) -> Announcement:
        draft = new.draft
        project, release, environment = self._keys(
            new.project_id, new.release_id, new.environment_id
        )
        announcement = Announcement(
            id=self._t.next_id("announcements"),
            project=project,
            release=release,
            environment=environment,
            flag=draft.flag,
            title=draft.title,
            body=draft.body,
            html=new.html,
            link=draft.link,
            starts_at=utc(draft.starts_at),
            ends_at=utc(draft.ends_at),
            created_by=new.created_by,
            created_at=utc(new.created_at),
        )
        self._t.announcements[announcement.id] = (
            new.project_id,
            new.release_id,
            new.environment_id,
            announcement,
        )
        return announcement

    def get_announcement(self, project_id: int, announcement_id: int) -> Announcement | None:
        row = self._t.announcements.get(announcement_id)
        return row[3] if row is not None and row[0] == project_id else None

    def list_announcements(
        self, project_id: int, release_id: int | None = None
    ) -> list[Announcement]:
        return [
            a
            for project, release, _, a in self._t.announcements.values()
            if project == project_id and release_id in (None, release)
        ]

    def announcements_until(self, environment_id: int, after: datetime) -> list[Announcement]:
        return [
            a
            for _, _, environment, a in self._t.announcements.values()
            if environment == environment_id and a.ends_at > after
        ]

    def announcement_environment(self, announcement_id: int) -> int | None:
        row = self._t.announcements.get(announcement_id)
        return None if row is None else row[2]

    def end_announcement(self, announcement_id: int, by: str, at: datetime) -> None:
        project, release, environment, announcement = self._t.announcements[announcement_id]
        ended = replace(announcement, ends_at=utc(at), ended_by=by)
        self._t.announcements[announcement_id] = (project, release, environment, ended)

    def remove_announcement(self, announcement_id: int) -> None:
        self._t.announcements.pop(announcement_id, None)
        for key in [k for k in self._t.dismissals if k[0] == announcement_id]:
            del self._t.dismissals[key]

    def add_dismissal(self, announcement_id: int, user_id: str, at: datetime) -> bool:
        key = (announcement_id, user_id)
        if key in self._t.dismissals:
            return False
        self._t.dismissals[key] = utc(at)
        return True

    def dismissed(self, user_id: str, announcement_ids: Collection[int]) -> set[int]:
        return {i for i in announcement_ids if (i, user_id) in self._t.dismissals}
