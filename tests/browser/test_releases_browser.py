"""The project board and the release page in a real browser: what people see, checked by
axe-core, and the release process driven by clicks: a second person approves, the
release manager promotes; a promotion the gates refuse lists every failing gate on the
page and changes nothing. The README's pictures of both pages are taken here
(SHIPWISE_SCREENSHOTS=1)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page
from tests.support.dashboard import Browsing, assert_accessible, screenshot
from tests.support.team import PROJECT, Team

pytestmark = pytest.mark.browser


def release_page(page: Page, key: str) -> Page:
    page.goto(f"/projects/{PROJECT}/releases/{key}")
    return page


def action(page: Page, name: str) -> Locator:
    """The button of the release page's form that posts to the action ``name``
    (approve, promote, …): found by the stable URL, not by its wording."""
    return page.locator(f"main form[action$='/{name}']").get_by_role("button")


def gates(failing: list[dict[str, Any]]) -> set[str]:
    return {gate["gate"] for gate in failing}


def words(text: str) -> str:
    """``text`` with its runs of white space as single spaces: table cells and line
    breaks are layout, not content."""
    return " ".join(text.split())


def remedy_parts(remedy: str) -> list[str]:
    """The words and the commands of a gate's remedy as the API writes it ("needs …:
    `shipwise …`"); the page may set the commands apart (as code), so each part is
    looked for on its own."""
    parts = (words(part).strip(" :") for part in re.split(r"`([^`]*)`", remedy))
    return [part for part in parts if part]


def flash(page: Page) -> str:
    return page.get_by_role("status").inner_text().strip()


def test_board__with_releases_in_two_columns__shows_each_card_and_passes_axe(
    browsing: Browsing, team: Team
) -> None:
    new = team.release("Bulk edit")
    in_dev = team.release("One-page checkout")
    assert team.promoted(in_dev) == "dev"
    page = browsing.as_person("carol")
    page.goto(f"/projects/{PROJECT}/board")

    for key, title in ((new, "Bulk edit"), (in_dev, "One-page checkout")):
        card = page.locator(f"main a[href$='/releases/{key}']")  # the card opens the release
        assert card.count() >= 1, page.locator("main").inner_text()
        assert title in card.first.inner_text()
    assert_accessible(page)
    screenshot(page, "board")


def test_release_page__approved_by_a_second_person__is_promoted_by_a_click(
    browsing: Browsing, team: Team
) -> None:
    key = team.release("Saved carts")
    assert "approvals" in gates(team.failing_gates(key))
    # Given: bob, not the author, approves in his own browser.
    bob = release_page(browsing.as_person("bob"), key)
    with bob.expect_navigation():
        action(bob, "approve").click()
    assert flash(bob)
    assert "approvals" not in gates(team.failing_gates(key))

    # When: carol, in hers, promotes.
    carol = release_page(browsing.as_person("carol"), key)
    assert_accessible(carol)
    with carol.expect_navigation():
        action(carol, "promote").click()

    # Then: the release is in dev, and the page she is back on says so.
    assert team.stage(key) == "dev"
    assert carol.url.split("?")[0].endswith(f"/projects/{PROJECT}/releases/{key}")
    assert flash(carol)
    assert_accessible(carol)
    screenshot(carol, "release")


def test_release_page__promotion_refused__lists_every_failing_gate_and_changes_nothing(
    browsing: Browsing, team: Team
) -> None:
    key = team.release("Gift cards", ci=False)  # no CI result, no approval
    failing = team.failing_gates(key)
    before = team.release_state(key)
    page = release_page(browsing.as_person("carol"), key)

    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        action(page, "promote").click()
    page.wait_for_load_state()

    assert answer.value.status == 409
    shown = words(page.locator("main").inner_text())
    assert len(failing) >= 2  # CI and the code owner's approval, at least
    missing = [
        (gate["gate"], part)
        for gate in failing
        for part in remedy_parts(gate["remedy"])
        if part not in shown
    ]
    assert not missing, f"failing gates not shown in place: {missing}\n{shown}"
    assert team.release_state(key) == before
    assert_accessible(page)


def test_viewer__on_the_board_and_the_release_page__sees_no_action_controls(
    browsing: Browsing, team: Team
) -> None:
    key = team.release("Wish lists")
    page = browsing.as_person("vic")

    for path in (f"/projects/{PROJECT}/board", f"/projects/{PROJECT}/releases/{key}"):
        page.goto(path)
        assert page.locator("main").get_by_text(key).count() >= 1, path
        assert page.locator("main form[method='post' i]").count() == 0, path
