"""A release's in-app announcements on its page in a real browser, by keyboard alone and
checked by axe-core: one added through the form, listed as showing with its sanitised
preview (a <script> typed into its Markdown neither appears nor runs: the page's policy
blocks nothing, which the fixture checks), then ended early."""

from __future__ import annotations

import pytest
from tests.support.dashboard import Browsing, assert_accessible, tab_to
from tests.support.team import API, PROJECT, Team, ok

pytestmark = pytest.mark.browser

TITLE = "One-step checkout"
MARKDOWN = "Pay in **one** step.\n\n<script>document.title = 'pwned'</script>"


def _release_with_flag(team: Team) -> str:
    team.flag("one-step-checkout")
    body = {"title": "One-step checkout", "kind": "feature", "flags": ["one-step-checkout"]}
    made = team.admin.post(f"{API}/releases", json=body, headers=team.as_person("alice"))
    return str(ok(made)["key"])


def test_announcements__added_by_keyboard__are_listed_with_a_safe_preview_then_ended(
    browsing: Browsing, team: Team
) -> None:
    key = _release_with_flag(team)
    page = browsing.as_person("alice")
    page.goto(f"/projects/{PROJECT}/releases/{key}")
    assert page.get_by_role("heading", name="In-app announcements").count() == 1
    assert_accessible(page)

    # The form by keyboard: unfolded, each field in order, then its button.
    assert not page.get_by_label("Title").is_visible()
    tab_to(page, page.locator("#announce > summary"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Title"))
    page.keyboard.type(TITLE)
    page.keyboard.press("Tab")
    page.keyboard.type(MARKDOWN)
    page.keyboard.press("Tab")
    page.keyboard.type("https://example.com/one-step")
    # Staging: production (protected) waits until the release has passed its gates there.
    tab_to(page, page.get_by_label("In the environment"))
    page.keyboard.type("staging")
    add = page.get_by_role("button", name="Add the announcement")
    tab_to(page, add)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert TITLE in page.get_by_role("status").inner_text()
    card = page.locator("li[data-announcement]")
    assert card.count() == 1
    assert card.get_attribute("data-state") == "showing"
    preview = card.locator("blockquote")
    assert "<strong>one</strong>" in preview.inner_html()
    assert "script" not in preview.inner_html()
    assert "pwned" not in page.locator("main").inner_text()
    assert page.title() != "pwned"
    [stored] = ok(team.admin.get(f"{API}/releases/{key}/announcements"))["announcements"]
    assert stored["body"] == MARKDOWN
    assert stored["link"] == "https://example.com/one-step"
    assert_accessible(page)

    end = page.get_by_role("button", name=f"End now: {TITLE}")
    tab_to(page, end)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert "nobody sees it from now on" in page.get_by_role("status").inner_text()
    assert page.locator("li[data-announcement]").get_attribute("data-state") == "ended"
    assert page.get_by_role("button", name=f"End now: {TITLE}").count() == 0
    [ended] = ok(team.admin.get(f"{API}/releases/{key}/announcements"))["announcements"]
    assert ended["state"] == "ended"
    assert_accessible(page)
