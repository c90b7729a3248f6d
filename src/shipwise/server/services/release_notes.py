"""A release's notes from git: refreshed on request, stored, edited by people, audited.

Refreshing reads what it needs in one unit of work (the project's repository, the
release's commit and pull requests, the previous production release's commit, the
policy's exclude rules), walks git outside any (a fetch may take seconds), then stores
the entries and the audit record in another. People's edits are stored by entry key
apart from the entries, so a refresh replaces git's words and keeps theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shipwise.domain.access import Action
from shipwise.domain.release_notes import (
    EntryEdit,
    KnownPullRequest,
    NoteEntry,
    apply_edits,
    assemble_notes,
    notes_rules,
)
from shipwise.domain.release_notes_render import (
    NotesSection,
    arrange,
    notes_structure,
    render_markdown,
)
from shipwise.domain.releases import Release, ReleaseStatus
from shipwise.server.ports import (
    AuditStore,
    Clocked,
    GitHistory,
    GitUnavailable,
    PolicySourceStore,
    Project,
    ProjectStore,
    ReleaseNotesStore,
    ReleaseStore,
    StoredNotes,
    StoreOf,
)
from shipwise.server.ports.release_notes import MAX_LOCATION, is_remote
from shipwise.server.services._common import audit, project_or_404
from shipwise.server.services.errors import Conflict, Invalid, NotFound
from shipwise.server.services.principal import Principal
from shipwise.server.services.project_policy import project_policy
from shipwise.server.services.release_access import release_or_404

__all__ = ["MAX_COMMITS", "NotesTx", "NotesView", "ReleaseNotesService"]

MAX_COMMITS = 2_000  # walked per refresh: a first release over a long history stops here
MAX_ENTRY_TEXT = 2_000


class NotesTx(
    ProjectStore, ReleaseStore, PolicySourceStore, ReleaseNotesStore, AuditStore, Clocked, Protocol
):
    """What the notes touch: the release and its project's policy, the notes, the audit."""


@dataclass(frozen=True, slots=True)
class NotesView:
    release: str
    title: str
    base_commit: str | None
    head_commit: str
    refreshed_at: datetime
    entries: tuple[NoteEntry, ...]  # every entry, edits applied, hidden ones included
    excluded: tuple[str, ...]
    sections: tuple[NotesSection, ...]  # the visible entries, laid out

    @property
    def markdown(self) -> str:
        return render_markdown(self.title, self.sections)

    def structure(self) -> dict[str, Any]:
        return notes_structure(self.title, self.sections)


@dataclass(frozen=True, slots=True)
class _Walk:
    location: str
    base: str | None
    head: str
    pulls: tuple[KnownPullRequest, ...]
    exclude: tuple[str, ...]


def _previous_production_commit(tx: NotesTx, project: Project, release: Release) -> str | None:
    """The commit of the newest earlier release that reached production (the last
    environment) and was not abandoned: what users had before this one."""
    environments = tx.list_environments(project.id)
    if not environments:
        return None
    production = environments[-1].key
    earlier = [
        r
        for r in tx.list_releases(project.id, stage=production)
        if r.id < release.id and r.commit is not None and r.status is not ReleaseStatus.ABANDONED
    ]
    return earlier[-1].commit if earlier else None


def _view(release: Release, stored: StoredNotes, edits: list[EntryEdit]) -> NotesView:
    entries = apply_edits(stored.entries, edits)
    return NotesView(
        release=release.key,
        title=f"{release.key}: {release.title}",
        base_commit=stored.base_commit,
        head_commit=stored.head_commit,
        refreshed_at=stored.refreshed_at,
        entries=entries,
        excluded=stored.excluded,
        sections=arrange(entries),
    )


def _location_problem(location: str) -> str | None:
    if not location.strip() or location != location.strip():
        return "give the repository's path or URL, without surrounding spaces"
    if len(location) > MAX_LOCATION or any(ord(c) < 0x20 for c in location):
        return f"a repository location is one line of at most {MAX_LOCATION} characters"
    if is_remote(location) or location.startswith("/"):
        return None
    if "://" in location or location.startswith("git@"):
        return "use an https://, http://, ssh://, git:// or file:// URL"
    return (
        f"{location!r} is a relative path: give the absolute path of a repository the "
        "server can read (the server's working directory is not yours), or a URL"
    )


class ReleaseNotesService:
    def __init__(self, store: StoreOf[NotesTx], git: GitHistory) -> None:
        self._store = store
        self._git = git

    def set_repository(self, principal: Principal, project_key: str, location: str | None) -> None:
        """Point the project at its git repository (None: forget it). Release managers and
        admins only: the server reads whatever path this names."""
        if location is not None and (problem := _location_problem(location)):
            raise Invalid(problem, field="location")
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.MANAGE_POLICY, project)
            before = tx.get_repository(project.id)
            tx.set_repository(project.id, location, tx.now())
            audit(
                tx,
                principal,
                "project.repository",
                "project",
                project_key,
                project=project_key,
                before={"repository": before},
                after={"repository": location},
            )

    def repository(self, principal: Principal, project_key: str) -> str | None:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            return tx.get_repository(project.id)

    def notes(
        self, principal: Principal, project_key: str, key: str, *, refresh: bool = False
    ) -> NotesView:
        """The release's notes; drawn from git when asked (``refresh``) or never before."""
        if refresh:
            return self.refresh(principal, project_key, key)
        with self._store.read() as tx:
            _project, release = release_or_404(tx, principal, project_key, key, Action.READ)
            stored = tx.get_release_notes(release.id)
            if stored is not None:
                return _view(release, stored, tx.list_note_edits(release.id))
        return self._refresh(principal, project_key, key, Action.READ)

    def refresh(self, principal: Principal, project_key: str, key: str) -> NotesView:
        return self._refresh(principal, project_key, key, Action.MANAGE_RELEASES)

    def _refresh(
        self, principal: Principal, project_key: str, key: str, action: Action
    ) -> NotesView:
        walk = self._plan(principal, project_key, key, action)
        try:
            commits = self._git.commits_between(walk.location, walk.head, walk.base, MAX_COMMITS)
        except GitUnavailable as error:
            raise Conflict(
                f"cannot read the notes of {key} from git: {error}; nothing changed",
                field="repository",
            ) from None
        assembly = assemble_notes(commits, walk.pulls, notes_rules(walk.exclude))
        with self._store.transaction() as tx:
            _project, release = release_or_404(tx, principal, project_key, key, action)
            previous = tx.get_release_notes(release.id)
            stored = StoredNotes(
                release_id=release.id,
                base_commit=walk.base,
                head_commit=walk.head,
                entries=assembly.entries,
                excluded=assembly.excluded,
                refreshed_at=tx.now(),
                refreshed_by=principal.actor,
            )
            tx.save_release_notes(stored)
            audit(
                tx,
                principal,
                "release.notes.refresh",
                "release",
                key,
                project=project_key,
                before=None if previous is None else _summary(previous),
                after={**_summary(stored), "commits": len(commits)},
            )
            return _view(release, stored, tx.list_note_edits(release.id))

    def _plan(self, principal: Principal, project_key: str, key: str, action: Action) -> _Walk:
        with self._store.read() as tx:
            project, release = release_or_404(tx, principal, project_key, key, action)
            location = tx.get_repository(project.id)
            if location is None:
                raise Conflict(
                    f"project {project_key!r} has no git repository to draw notes from: set "
                    f"it with `shipwise project repo set PATH_OR_URL -p {project_key}`",
                    field="repository",
                )
            if release.commit is None:
                raise Conflict(
                    f"{key} has no commit yet, so its notes have no end: set it with "
                    f"`shipwise release update {key} --commit SHA`",
                    field="commit",
                )
            pulls = tuple(
                KnownPullRequest(p.number, p.title, release.labels) for p in release.pull_requests
            )
            exclude = project_policy(tx, project).notes_exclude
            base = _previous_production_commit(tx, project, release)
            return _Walk(location, base, release.commit, pulls, exclude)

    def edit_entry(
        self,
        principal: Principal,
        project_key: str,
        key: str,
        entry_key: str,
        changes: dict[str, Any],
    ) -> NotesView:
        """Change an entry's text (None: git's again) or hide it; kept across refreshes."""
        text = changes.get("text")
        if text is not None and (not text.strip() or len(text) > MAX_ENTRY_TEXT):
            raise Invalid(
                f"an entry's text is 1 to {MAX_ENTRY_TEXT} characters (null: git's words)",
                field="text",
            )
        with self._store.transaction() as tx:
            action = Action.MANAGE_RELEASES
            _project, release = release_or_404(tx, principal, project_key, key, action)
            stored = tx.get_release_notes(release.id)
            if stored is None or all(e.key != entry_key for e in stored.entries):
                raise NotFound(
                    f"no entry {entry_key!r} in the notes of {key}; "
                    f"`shipwise release notes {key} --json` lists the entries' keys"
                )
            edits = {e.key: e for e in tx.list_note_edits(release.id)}
            before = edits.get(entry_key, EntryEdit(entry_key))
            after = EntryEdit(
                entry_key,
                changes.get("text", before.text),
                changes["hidden"] if changes.get("hidden") is not None else before.hidden,
            )
            tx.save_note_edit(release.id, after, principal.actor, tx.now())
            audit(
                tx,
                principal,
                "release.notes.edit",
                "release",
                key,
                project=project_key,
                before={"entry": entry_key, "text": before.text, "hidden": before.hidden},
                after={"entry": entry_key, "text": after.text, "hidden": after.hidden},
            )
            edits[entry_key] = after
            return _view(release, stored, list(edits.values()))


def _summary(notes: StoredNotes) -> dict[str, Any]:
    return {
        "base_commit": notes.base_commit,
        "head_commit": notes.head_commit,
        "entries": len(notes.entries),
        "excluded": len(notes.excluded),
    }
