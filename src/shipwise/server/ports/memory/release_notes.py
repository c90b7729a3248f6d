"""Release notes, their edits and projects' git repositories, in memory."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from shipwise.domain.release_notes import EntryEdit
from shipwise.server.ports.memory.base import MemoryBase
from shipwise.server.ports.memory.tables import utc
from shipwise.server.ports.release_notes import StoredNotes


class ReleaseNotesQueries(MemoryBase):
    def get_repository(self, project_id: int) -> str | None:
        return self._t.repositories.get(project_id)

    def set_repository(self, project_id: int, location: str | None, at: datetime) -> None:
        if location is None:
            self._t.repositories.pop(project_id, None)
        else:
            self._t.repositories[project_id] = location

    def get_release_notes(self, release_id: int) -> StoredNotes | None:
        return self._t.release_notes.get(release_id)

    def save_release_notes(self, notes: StoredNotes) -> None:
        self._t.release_notes[notes.release_id] = replace(
            notes, refreshed_at=utc(notes.refreshed_at)
        )

    def list_note_edits(self, release_id: int) -> list[EntryEdit]:
        return [edit for (release, _), edit in self._t.note_edits.items() if release == release_id]

    def save_note_edit(self, release_id: int, edit: EntryEdit, by: str, at: datetime) -> None:
        self._t.note_edits[(release_id, edit.key)] = edit
