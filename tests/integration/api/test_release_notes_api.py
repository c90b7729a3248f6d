"""Release notes from a real git repository, through the API, on SQLite and PostgreSQL:
the changes between two production releases, grouped, pull requests folded, the policy's
exclusions applied, a person's edits kept across a refresh, and every step audited."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from tests.integration.api.helpers import error_field
from tests.support.git_repos import GitRepo, two_releases
from tests.support.server import RunningServer

PROJECT = "/api/v1/projects/default"
RELEASES = f"{PROJECT}/releases"


def _two_releases(server: RunningServer, admin: httpx.Client, repo: GitRepo) -> None:
    """rel-1 (the first commit) in production, rel-2 (the newest) on its way, PR #9 known."""
    first = {"title": "First", "kind": "feature", "commit": repo.shas["first"]}
    assert admin.post(RELEASES, json=first).status_code == 201
    second = {
        "title": "Second",
        "kind": "feature",
        "commit": repo.shas["second"],
        "pull_requests": [{"number": 9, "title": "perf(db): faster index lookups"}],
    }
    assert admin.post(RELEASES, json=second).status_code == 201
    with server.services.database.transaction() as tx:  # as if promoted through its gates
        project = tx.get_project("default")
        assert project is not None
        released = tx.get_release(project.id, "rel-1")
        assert released is not None
        tx.save_release(replace(released, stage="production"))


def _notes(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_notes__two_production_releases_apart__list_what_changed_between_them(
    server: RunningServer, tmp_path: Path
) -> None:
    repo = two_releases(tmp_path / "repo")
    with server.admin() as admin:
        _two_releases(server, admin, repo)
        policy = '[notes]\nexclude = ["chore", "^Merge branch"]\n'
        applied = admin.put(f"{PROJECT}/policy", json={"source": policy})
        assert applied.status_code == 200, applied.text
        set_repo = admin.put(f"{PROJECT}/repository", json={"location": str(repo.path)})
        assert set_repo.status_code == 200, set_repo.text

        notes = _notes(admin.get(f"{RELEASES}/rel-2/notes"))

    assert notes["base_commit"] == repo.shas["first"]
    assert notes["head_commit"] == repo.shas["second"]
    assert [s["title"] for s in notes["sections"]] == [
        "Breaking changes",
        "Features",
        "Bug fixes",
        "Performance",
        "Documentation",
        "Other changes",
    ]
    markdown = notes["markdown"]
    assert "- feat: drop the v1 API" in markdown
    assert "- **cart:** saved carts (#7)" in markdown  # the merge's title, not "wip"
    assert "wip" not in markdown
    assert "- **db:** faster index lookups (#9)" in markdown  # the release's PR title
    assert "add search" not in markdown  # shipped by rel-1
    assert "bump dependencies" not in markdown
    assert "Merge branch" not in markdown
    assert set(notes["excluded"]) == {repo.shas["chore"], repo.shas["second"]}
    pr7 = next(e for e in notes["entries"] if e["key"] == "pr-7")
    assert set(pr7["commits"]) == {repo.shas["pr7"], repo.shas["pr7-a"], repo.shas["pr7-b"]}


def test_notes__edited_entry__survives_a_refresh_from_git(
    server: RunningServer, tmp_path: Path
) -> None:
    repo = two_releases(tmp_path / "repo")
    with server.admin() as admin:
        _two_releases(server, admin, repo)
        admin.put(f"{PROJECT}/repository", json={"location": str(repo.path)})
        plain = f"commit-{repo.shas['plain']}"
        _notes(admin.get(f"{RELEASES}/rel-2/notes"))
        _notes(admin.patch(f"{RELEASES}/rel-2/notes/entries/pr-7", json={"text": "Saved carts"}))
        _notes(admin.patch(f"{RELEASES}/rel-2/notes/entries/{plain}", json={"hidden": True}))
        repo.commit("fix: one more thing")  # git moves on; the release's commit does not

        refreshed = _notes(admin.post(f"{RELEASES}/rel-2/notes/refresh"))
        again = _notes(admin.get(f"{RELEASES}/rel-2/notes", params={"refresh": "true"}))
        audit = admin.get("/api/v1/audit", params={"project": "default"}).json()

    for notes in (refreshed, again):
        assert "- **cart:** Saved carts (#7)" in notes["markdown"]
        assert "Update the readme" not in notes["markdown"]
        hidden = next(e for e in notes["entries"] if e["key"] == plain)
        assert hidden["hidden"]
        assert hidden["edited"]
    actions = [entry["action"] for entry in audit["records"]]
    assert actions.count("release.notes.refresh") == 3
    assert actions.count("release.notes.edit") == 2
    assert "project.repository" in actions


def test_notes__from_a_file_url__are_drawn_from_a_clone_kept_fresh(
    server: RunningServer, tmp_path: Path
) -> None:
    repo = two_releases(tmp_path / "repo")
    with server.admin() as admin:
        _two_releases(server, admin, repo)
        url = repo.path.as_uri()
        assert admin.put(f"{PROJECT}/repository", json={"location": url}).status_code == 200
        first = _notes(admin.get(f"{RELEASES}/rel-2/notes"))
        newer = repo.commit("feat: pushed after the clone")
        moved = admin.patch(f"{RELEASES}/rel-2", json={"commit": newer})
        assert moved.status_code == 200, moved.text

        second = _notes(admin.post(f"{RELEASES}/rel-2/notes/refresh"))

    assert "pushed after the clone" not in first["markdown"]
    assert "- pushed after the clone" in second["markdown"]


def test_notes__no_repository_or_a_missing_commit__409_naming_it_and_nothing_stored(
    server: RunningServer, tmp_path: Path
) -> None:
    repo = two_releases(tmp_path / "repo")
    with server.admin() as admin:
        _two_releases(server, admin, repo)
        unset = admin.get(f"{RELEASES}/rel-2/notes")
        admin.put(f"{PROJECT}/repository", json={"location": str(tmp_path / "nowhere")})
        missing_repo = admin.get(f"{RELEASES}/rel-2/notes")
        relative = admin.put(f"{PROJECT}/repository", json={"location": "repo"})
        admin.put(f"{PROJECT}/repository", json={"location": str(repo.path)})
        admin.patch(f"{RELEASES}/rel-2", json={"commit": "ab" * 20})
        missing_commit = admin.get(f"{RELEASES}/rel-2/notes")
        no_entry = admin.patch(f"{RELEASES}/rel-2/notes/entries/pr-1", json={"hidden": True})

    assert (unset.status_code, error_field(unset)) == (409, "repository")
    assert "shipwise project repo set" in unset.json()["error"]["message"]
    assert (missing_repo.status_code, error_field(missing_repo)) == (409, "repository")
    assert (relative.status_code, error_field(relative)) == (422, "location")
    assert (missing_commit.status_code, error_field(missing_commit)) == (409, "repository")
    assert "ab" * 20 in missing_commit.json()["error"]["message"]
    assert no_entry.status_code == 404
