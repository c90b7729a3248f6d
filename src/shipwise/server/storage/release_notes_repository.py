"""Release notes, their edits and projects' git repositories, mixed into
``SqlTransaction``. Entries are stored as JSON (one document per release: they are read
and replaced whole); edits are rows of their own, keyed by the entry's stable key, so a
refresh that replaces the entries leaves them alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shipwise.domain.release_notes import EntryEdit, NoteEntry
from shipwise.server.ports import StoredNotes
from shipwise.server.storage.communication_tables import (
    ProjectRepositoryRow,
    ReleaseNoteEditRow,
    ReleaseNotesRow,
)
from shipwise.server.storage.timestamps import utc


def _entry_dict(entry: NoteEntry) -> dict[str, Any]:
    return {
        "key": entry.key,
        "type": entry.type,
        "scope": entry.scope,
        "breaking": entry.breaking,
        "text": entry.text,
        "commits": list(entry.commits),
        "pull_request": entry.pull_request,
        "labels": list(entry.labels),
    }


def _entry(data: dict[str, Any]) -> NoteEntry:
    return NoteEntry(
        key=data["key"],
        type=data["type"],
        scope=data.get("scope"),
        breaking=bool(data.get("breaking")),
        text=data["text"],
        commits=tuple(data.get("commits") or ()),
        pull_request=data.get("pull_request"),
        labels=tuple(data.get("labels") or ()),
    )


class ReleaseNotesQueries:
    session: Session
    _now: Callable[[], datetime]

    def get_repository(self, project_id: int) -> str | None:
        row = self.session.get(ProjectRepositoryRow, project_id)
        return None if row is None else row.location

    def set_repository(self, project_id: int, location: str | None, at: datetime) -> None:
        row = self.session.get(ProjectRepositoryRow, project_id)
        if location is None:
            if row is not None:
                self.session.delete(row)
        elif row is None:
            self.session.add(
                ProjectRepositoryRow(project_id=project_id, location=location, updated_at=at)
            )
        else:
            row.location, row.updated_at = location, at
        self.session.flush()

    def get_release_notes(self, release_id: int) -> StoredNotes | None:
        row = self.session.get(ReleaseNotesRow, release_id)
        if row is None:
            return None
        return StoredNotes(
            release_id=row.release_id,
            base_commit=row.base_commit,
            head_commit=row.head_commit,
            entries=tuple(_entry(item) for item in row.entries),
            excluded=tuple(row.excluded),
            refreshed_at=utc(row.refreshed_at),
            refreshed_by=row.refreshed_by,
        )

    def save_release_notes(self, notes: StoredNotes) -> None:
        self.session.execute(
            delete(ReleaseNotesRow).where(ReleaseNotesRow.release_id == notes.release_id)
        )
        self.session.add(
            ReleaseNotesRow(
                release_id=notes.release_id,
                base_commit=notes.base_commit,
                head_commit=notes.head_commit,
                entries=[_entry_dict(e) for e in notes.entries],
                excluded=list(notes.excluded),
                refreshed_at=notes.refreshed_at,
                refreshed_by=notes.refreshed_by,
            )
        )
        self.session.flush()

    def list_note_edits(self, release_id: int) -> list[EntryEdit]:
        rows = self.session.scalars(
            select(ReleaseNoteEditRow)
            .where(ReleaseNoteEditRow.release_id == release_id)
            .order_by(ReleaseNoteEditRow.entry_key)
        )
        return [EntryEdit(row.entry_key, row.text, row.hidden) for row in rows]

    def save_note_edit(self, release_id: int, edit: EntryEdit, by: str, at: datetime) -> None:
        row = self.session.get(ReleaseNoteEditRow, (release_id, edit.key))
        if row is None:
            row = ReleaseNoteEditRow(release_id=release_id, entry_key=edit.key)
            self.session.add(row)
        row.text, row.hidden, row.edited_by, row.edited_at = edit.text, edit.hidden, by, at
        self.session.flush()
