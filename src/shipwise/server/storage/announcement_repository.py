"""In-app announcements and their dismissals, mixed into ``SqlTransaction``. Reads join
the release, environment and project rows for their keys: an announcement names them,
the rows hold ids."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy import Select, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shipwise.domain.announcements import Announcement
from shipwise.server.ports.announcements import NewAnnouncement
from shipwise.server.storage.announcement_tables import AnnouncementRow, DismissalRow
from shipwise.server.storage.tables import EnvironmentRow, ProjectRow, ReleaseRow
from shipwise.server.storage.timestamps import utc

Keyed = Select[AnnouncementRow, str, str, str]  # a row and its project, release, environment
MAX_IDS = 1_000  # ids per dismissal lookup: one IN list stays well inside both databases


def _with_keys() -> Keyed:
    return (
        select(AnnouncementRow, ProjectRow.key, ReleaseRow.key, EnvironmentRow.key)
        .join(ProjectRow, ProjectRow.id == AnnouncementRow.project_id)
        .join(ReleaseRow, ReleaseRow.id == AnnouncementRow.release_id)
        .join(EnvironmentRow, EnvironmentRow.id == AnnouncementRow.environment_id)
        .order_by(AnnouncementRow.id)
    )


def _announcement(row: AnnouncementRow, project: str, release: str, env: str) -> Announcement:
    return Announcement(
        id=row.id,
        project=project,
        release=release,
        environment=env,
        flag=row.flag,
        title=row.title,
        body=row.body,
        html=row.html,
        link=row.link,
        starts_at=utc(row.starts_at),
        ends_at=utc(row.ends_at),
        created_by=row.created_by,
        created_at=utc(row.created_at),
        ended_by=row.ended_by,
    )


class AnnouncementQueries:
    session: Session
    _now: Callable[[], datetime]

    def _read(self, query: Keyed) -> list[Announcement]:
        rows = self.session.execute(query)
        return [_announcement(row, project, release, env) for row, project, release, env in rows]

    def add_announcement(self, new: NewAnnouncement) -> Announcement:
        draft = new.draft
        row = AnnouncementRow(
            project_id=new.project_id,
            release_id=new.release_id,
            environment_id=new.environment_id,
            flag=draft.flag,
            title=draft.title,
            body=draft.body,
            html=new.html,
            link=draft.link,
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
            created_by=new.created_by,
            created_at=new.created_at,
            ended_by=None,
        )
        self.session.add(row)
        self.session.flush()
        [found] = self._read(_with_keys().where(AnnouncementRow.id == row.id))
        return found

    def get_announcement(self, project_id: int, announcement_id: int) -> Announcement | None:
        found = self._read(
            _with_keys().where(
                AnnouncementRow.id == announcement_id, AnnouncementRow.project_id == project_id
            )
        )
        return found[0] if found else None

    def list_announcements(
        self, project_id: int, release_id: int | None = None
    ) -> list[Announcement]:
        query = _with_keys().where(AnnouncementRow.project_id == project_id)
        if release_id is not None:
            query = query.where(AnnouncementRow.release_id == release_id)
        return self._read(query)

    def announcements_until(self, environment_id: int, after: datetime) -> list[Announcement]:
        return self._read(
            _with_keys().where(
                AnnouncementRow.environment_id == environment_id, AnnouncementRow.ends_at > after
            )
        )

    def announcement_environment(self, announcement_id: int) -> int | None:
        return self.session.scalar(
            select(AnnouncementRow.environment_id).where(AnnouncementRow.id == announcement_id)
        )

    def end_announcement(self, announcement_id: int, by: str, at: datetime) -> None:
        self.session.execute(
            update(AnnouncementRow)
            .where(AnnouncementRow.id == announcement_id)
            .values(ends_at=at, ended_by=by)
        )

    def remove_announcement(self, announcement_id: int) -> None:
        # Dismissals first: SQLite enforces the foreign key's cascade only when told to.
        self.session.execute(
            delete(DismissalRow).where(DismissalRow.announcement_id == announcement_id)
        )
        self.session.execute(delete(AnnouncementRow).where(AnnouncementRow.id == announcement_id))

    def add_dismissal(self, announcement_id: int, user_id: str, at: datetime) -> bool:
        # ON CONFLICT DO NOTHING: the same user dismissing twice at once (two tabs) is
        # one dismissal, not a failed request; RETURNING says whether this one stored it.
        values = {"announcement_id": announcement_id, "user_id": user_id, "dismissed_at": at}
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stored = self.session.execute(
            insert(DismissalRow)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(DismissalRow.user_id)
        )
        return stored.first() is not None

    def dismissed(self, user_id: str, announcement_ids: Collection[int]) -> set[int]:
        ids = sorted(set(announcement_ids))
        found: set[int] = set()
        for start in range(0, len(ids), MAX_IDS):
            found.update(
                self.session.scalars(
                    select(DismissalRow.announcement_id).where(
                        DismissalRow.user_id == user_id,
                        DismissalRow.announcement_id.in_(ids[start : start + MAX_IDS]),
                    )
                )
            )
        return found
