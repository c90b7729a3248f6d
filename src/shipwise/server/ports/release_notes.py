"""Release notes as stored, the edits people made to them, and where a project's git
repository is; and the git history the notes are drawn from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shipwise.domain.release_notes import EntryEdit, GitCommit, NoteEntry

# A repository's location is a path on the server, or a URL of one of these schemes
# (cloned, then fetched before each walk).
REMOTE_SCHEMES = ("https://", "http://", "ssh://", "git://", "file://")
MAX_LOCATION = 1000


def is_remote(location: str) -> bool:
    return location.startswith(REMOTE_SCHEMES)


@dataclass(frozen=True, slots=True)
class StoredNotes:
    """The notes of one release as git last gave them (before any person's edits)."""

    release_id: int
    base_commit: str | None  # the previous production release's commit (None: none)
    head_commit: str
    entries: tuple[NoteEntry, ...]
    excluded: tuple[str, ...]  # commits the policy's rules left out
    refreshed_at: datetime
    refreshed_by: str


class ReleaseNotesStore(Protocol):
    def get_repository(self, project_id: int) -> str | None:
        """Where the project's git repository is: a path or a URL; None when not set."""
        ...

    def set_repository(self, project_id: int, location: str | None, at: datetime) -> None: ...
    def get_release_notes(self, release_id: int) -> StoredNotes | None: ...
    def save_release_notes(self, notes: StoredNotes) -> None:
        """Replace the release's notes (edits are kept apart, by entry key)."""
        ...

    def list_note_edits(self, release_id: int) -> list[EntryEdit]: ...
    def save_note_edit(self, release_id: int, edit: EntryEdit, by: str, at: datetime) -> None:
        """Set the edit of ``edit.key`` (one per entry: a later edit replaces it)."""
        ...


class GitUnavailable(Exception):
    """The repository cannot be read (missing, not git, unreachable) or lacks a commit;
    the message says which, in words."""


class GitHistory(Protocol):
    def commits_between(
        self, location: str, head: str, base: str | None, limit: int
    ) -> Sequence[GitCommit]:
        """Commits reachable from ``head`` and not from ``base`` (every parent of a merge
        followed), newest first, at most ``limit``; raises ``GitUnavailable``. A remote
        repository is fetched first."""
        ...
