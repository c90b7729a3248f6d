"""An email announcement drafted from the release page by keyboard in a real browser,
then its own page (the edit form and the sandboxed preview of both parts), with axe-core
on each page."""

from __future__ import annotations

import pytest
from tests.support.dashboard import Browsing, assert_accessible, tab_to
from tests.support.team import API, PROJECT, Team, ok

pytestmark = pytest.mark.browser


def test_mailout__drafted_by_keyboard__opens_its_page_with_a_preview(
    browsing: Browsing, team: Team
) -> None:
    settings = {
        "host": "127.0.0.1",
        "port": 2525,
        "security": "none",
        "from": "news@shop.example",
        "recipients": ["news@shop.example"],
    }
    channel = {"name": "customers", "kind": "email", "settings": settings}
    ok(team.admin.post(f"{API}/channels", json=channel))
    key = team.release("Gift cards")
    page = browsing.as_person("carol")
    page.goto(f"/projects/{PROJECT}/releases/{key}")
    section = page.locator("#release-mailouts")
    assert_accessible(page)

    recipients = section.get_by_label("Recipients (one address a line)")
    tab_to(page, recipients)
    page.keyboard.type("ada@example.com")
    page.keyboard.press("Enter")
    page.keyboard.type("bea@example.com")
    draft = section.get_by_role("button", name="Draft from the release notes")
    tab_to(page, draft)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert "/mailouts/" in page.url  # the new announcement's own page
    frame = page.frame_locator("iframe[sandbox]")
    assert "Gift cards" in frame.locator("body").inner_text()
    assert_accessible(page)
