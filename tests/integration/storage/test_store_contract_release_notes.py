"""The store contract for release notes: a project's repository, a release's notes
replaced whole by a refresh, and people's edits kept apart by entry key. On the memory
store, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from tests.support.store_backend import START, Backend

from shipwise.domain.release_notes import EntryEdit, NoteEntry
from shipwise.domain.releases import ChangeKind, Release
from shipwise.server.ports import Store, StoredNotes

SHA = "a" * 40


def _release(store: Store) -> Release:
    with store.transaction() as tx:
        project = tx.add_project("shop", "Shop", "UTC")
        return tx.add_release(
            project.id,
            Release(0, "shop", "rel-1", "One", ChangeKind.FEATURE, "ana", START, START),
        )


def _notes(release: Release, text: str, at: datetime) -> StoredNotes:
    entry = NoteEntry("pr-7", "feat", "cart", True, text, (SHA,), 7, ("backend",))
    return StoredNotes(release.id, None, SHA, (entry,), ("b" * 40,), at, "token:ana")


def test_repository__set_changed_and_forgotten__reads_back_each_time(backend: Backend) -> None:
    release = _release(backend.store)
    project_id = 1
    seen = []
    for location in ("/srv/git/shop.git", "https://git.example/shop.git", None):
        with backend.store.transaction() as tx:
            tx.set_repository(project_id, location, START)
        with backend.store.read() as tx:
            seen.append(tx.get_repository(project_id))

    assert release.id >= 1
    assert seen == ["/srv/git/shop.git", "https://git.example/shop.git", None]


def test_release_notes__saved_twice__the_second_replaces_the_first_and_edits_stay(
    backend: Backend,
) -> None:
    release = _release(backend.store)
    with backend.store.transaction() as tx:
        tx.save_release_notes(_notes(release, "saved carts", START))
        tx.save_note_edit(release.id, EntryEdit("pr-7", "Saved carts!", False), "ana", START)
        tx.save_note_edit(release.id, EntryEdit("pr-7", None, True), "bob", START)
    with backend.store.transaction() as tx:
        tx.save_release_notes(_notes(release, "saved carts, again", START))

    with backend.store.read() as tx:
        stored = tx.get_release_notes(release.id)
        edits = tx.list_note_edits(release.id)

    assert stored == _notes(release, "saved carts, again", START)
    assert edits == [EntryEdit("pr-7", None, True)]


def test_release_notes__never_saved__are_none(backend: Backend) -> None:
    release = _release(backend.store)
    with backend.store.read() as tx:
        assert tx.get_release_notes(release.id) is None
        assert tx.list_note_edits(release.id) == []
