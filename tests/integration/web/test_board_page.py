"""The project board, through a real server and the real sign-in, on SQLite and
PostgreSQL: each release in the column of where it is, with the first gate that holds
it back in the words the API's gate check gives; overdue bug fixes marked in words;
filters kept in the URL; the released column capped at the newest ten; bad filters and
unknown projects answered as pages, never 500."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from tests.integration.web.release_pages import API, BOARD, PROJECT, World, read, world

from shipwise.domain.gates import gate_label
from shipwise.domain.releases import ChangeKind, Release, ReleaseStatus


@pytest.fixture
def team(database_url: str, tmp_path: Path) -> Iterator[World]:
    with world(database_url, tmp_path) as made:
        yield made


def _first_unmet_remedy(team: World, key: str) -> tuple[str, str]:
    response = team.admin.get(f"{API}/releases/{key}/gates")
    assert response.status_code == 200, response.text
    unmet = [g for g in response.json()["gates"] if not g["passed"]]
    return unmet[0]["gate"], unmet[0]["remedy"]


def test_board__releases_in_several_stages__each_in_its_column_with_its_first_blocking_gate(
    team: World,
) -> None:
    waiting = team.release("Bulk edit")  # nobody approved it: held before dev
    moved = team.release("Dark mode")
    with team.api_as("bob") as bob:
        assert bob.post(f"{API}/releases/{moved}/approve", json={}).status_code == 200
        response = bob.post(f"{API}/releases/{moved}/promote", json={})
        assert response.status_code == 200, response.text

    with team.person("alice") as alice:
        response = alice.get(BOARD)
    assert response.status_code == 200, response.text
    page = read(response)

    assert page.columns == {waiting: "new", moved: "dev"}
    # The words are the API gate check's own: its first unmet gate and remedy, up to the
    # command (the release page shows the command).
    for key, target in ((waiting, "dev"), (moved, "staging")):
        gate, remedy = _first_unmet_remedy(team, key)
        words = remedy.split(": `shipwise")[0]
        assert f"Blocked for {target}: {gate_label(gate)}: {words}" in page.cards[key]
    assert "needs 1 more approval from a code-owner" in page.cards[waiting]


def test_board__an_overdue_bug_fix__says_overdue_in_words(team: World) -> None:
    # A critical fix is due at once: from the moment it exists it is overdue.
    key = team.release("Checkout crash", kind="bugfix", severity="critical")
    calm = team.release("Typo", kind="bugfix", severity="low")
    with team.person("vic") as vic:
        page = read(vic.get(BOARD))
    assert page.columns == {key: "new", calm: "new"}
    assert "Overdue: was due" in page.cards[key]
    assert "Overdue" not in page.cards[calm]  # "when convenient" is never late
    assert page.cards[key].startswith(f"{key}: Checkout crash bugfix critical by alice")


def test_board__filters__show_only_matching_releases_and_stay_in_the_url(team: World) -> None:
    feature = team.release("Bulk edit")
    fix = team.release("Crash", kind="bugfix", severity="high")
    with team.person("alice") as alice:
        by_kind = read(alice.get(BOARD, params={"kind": "bugfix"}))
        by_severity = read(alice.get(BOARD, params={"severity": "high", "kind": ""}))
        by_owner = read(alice.get(BOARD, params={"owner": "bob"}))
        everything = read(alice.get(BOARD, params={"kind": "", "severity": "", "owner": ""}))

    assert set(by_kind.columns) == {fix}
    assert set(by_severity.columns) == {fix}
    assert by_owner.columns == {}
    assert set(everything.columns) == {feature, fix}
    # The filter form is a GET form holding what was asked: the URL is the filter.
    form = by_kind.form(BOARD)
    assert form.method == "get"
    assert "1 of 2 releases shown" in by_kind.text
    assert by_owner.form(BOARD).fields["owner"] == "bob"


def test_board__an_unknown_kind__is_422_with_the_message_beside_the_field(team: World) -> None:
    with team.person("alice") as alice:
        response = alice.get(BOARD, params={"kind": "epic"})
    assert response.status_code == 422
    page = read(response)
    assert "unknown kind 'epic'; choose one of feature, bugfix, hotfix" in page.text
    assert 'aria-describedby="error-kind"' in response.text
    assert 'id="error-kind"' in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/projects/nowhere/board",
        f"/projects/{PROJECT}/releases/rel-404",
        "/projects/nowhere/releases/rel-1",
    ],
)
def test_pages__an_unknown_project_or_release__is_a_404_page(team: World, path: str) -> None:
    with team.person("alice") as alice:
        response = alice.get(path)
    assert response.status_code == 404
    page = read(response)
    assert "Not found" in page.text
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_home__with_one_project__goes_to_its_board(team: World) -> None:
    with team.person("alice") as alice:
        response = alice.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == BOARD


def test_board__without_a_session__sends_the_browser_to_sign_in(team: World) -> None:
    with httpx.Client(base_url=team.server.url) as stranger:
        response = stranger.get(BOARD, params={"kind": "feature"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?next=")


def _released(team: World, count: int) -> list[str]:
    """``count`` releases already released, written into the store (the board's released
    column is what is tested, not the walk there); their keys, oldest first."""
    keys = []
    with team.server.services.store.transaction() as tx:
        project = tx.get_project(PROJECT)
        assert project is not None
        for i in range(count):
            now = tx.now()
            added = tx.add_release(
                project.id,
                Release(0, PROJECT, f"old-{i}", f"Old {i}", ChangeKind.FEATURE, "alice", now, now),
            )
            saved = tx.save_release(
                replace(added, stage="production", status=ReleaseStatus.RELEASED)
            )
            keys.append(saved.key)
    return keys


def test_board__a_long_release_history__shows_the_newest_ten_released__and_all_on_request(
    team: World,
) -> None:
    history = _released(team, 14)
    working = team.release("Bulk edit")

    with team.person("vic") as vic:
        board = vic.get(BOARD)
        page = read(board)
        everything = read(vic.get(BOARD, params={"released": "all"}))

    # Before: all fourteen released cards on the board.
    released = [key for key, column in page.columns.items() if column == "released"]
    assert released == history[::-1][:10]  # newest first
    assert page.columns[working] == "new"
    assert "The newest 10 shown; 4 older. Show all released" in page.text
    assert f'href="/projects/{PROJECT}/board?released=all"' in board.text
    assert "11 of 15 releases shown." in page.text
    assert {k for k, c in everything.columns.items() if c == "released"} == set(history)
    assert "older" not in everything.text
