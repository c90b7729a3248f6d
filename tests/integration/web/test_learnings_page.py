"""The learnings page through a real server and the real sign-in, on SQLite and
PostgreSQL: the release page links to it, the form saves (CSRF-checked), a stale save
is 409 with who saved in between and what was typed kept, a bad line is 422 beside its
field, and a viewer sees no form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.web.release_pages import API, World, read, release_page, world


@pytest.fixture
def team(database_url: str, tmp_path: Path) -> Iterator[World]:
    with world(database_url, tmp_path) as made:
        yield made


def test_learnings_page__linked_from_the_release__saves_by_form_post(team: World) -> None:
    key = team.release("Dark mode")
    url = f"{release_page(key)}/learnings"
    with team.person("alice") as alice:
        release = read(alice.get(release_page(key)))
        page = read(alice.get(url))
        fields = page.form("/learnings").fields | {
            "went_well": "Quiet.",
            "action_items": "Watch the first hour | carol | 2026-12-31",
            "timeline": "2026-11-02T10:00Z | dan | saw the traces",
        }
        saved = alice.post(url, data=fields)
        assert saved.status_code == 303, saved.text
        after = read(alice.get(saved.headers["location"]))

    assert f"Write or read the learnings of {key}" in release.text
    assert f"Saved the learnings of {key} (version 1)" in after.text
    assert "Watch the first hour carol 2026-12-31" in " ".join(after.text.split())
    assert "saw the traces (added)" in after.text
    stored = team.admin.get(f"{API}/releases/{key}/learnings").json()
    assert stored["action_items"] == [
        {"what": "Watch the first hour", "owner": "carol", "due": "2026-12-31"}
    ]


def test_learnings_page__stale_or_bad__shown_again_with_why_and_nothing_changed(
    team: World,
) -> None:
    key = team.release("Dark mode")
    url = f"{release_page(key)}/learnings"
    with team.person("alice") as alice, team.person("bob") as bob:
        alices = read(alice.get(url)).form("/learnings").fields
        bobs = read(bob.get(url)).form("/learnings").fields
        assert bob.post(url, data=bobs | {"went_well": "bob's"}).status_code == 303

        stale = alice.post(url, data=alices | {"went_well": "alice's"})
        bad = alice.post(url, data=alices | {"version": "1", "action_items": "no owner here"})

    assert stale.status_code == 409
    assert "changed by bob" in read(stale).text
    assert "alice&#39;s" in stale.text  # what was typed, kept
    assert bad.status_code == 422
    assert 'id="learnings-action_items" name="action_items"' in bad.text
    assert 'aria-invalid="true"' in bad.text
    assert "line 1: write what | owner | due" in read(bad).text
    stored = team.admin.get(f"{API}/releases/{key}/learnings").json()
    assert (stored["version"], stored["went_well"]) == (1, "bob's")


def test_learnings_page__a_viewer__sees_no_form_and_a_post_without_csrf_is_403(
    team: World,
) -> None:
    key = team.release("Dark mode")
    url = f"{release_page(key)}/learnings"
    with team.person("vic") as vic:
        page = read(vic.get(url))
        forged = vic.post(url, data={"version": "0", "went_well": "x"})

    assert [f.action for f in page.forms if f.action.endswith("/learnings")] == []
    assert forged.status_code == 403
    assert team.admin.get(f"{API}/releases/{key}/learnings").json()["version"] == 0
