"""Notification channels on the settings page in a real browser, by keyboard alone and
checked by axe-core: a log channel added, then sent a test message, with what the
channel answered shown in place and given the focus; a refused form with its message
beside the field."""

from __future__ import annotations

import pytest
from tests.support.dashboard import Browsing, assert_accessible, signed_in, tab_to
from tests.support.server import RunningServer
from tests.support.team import PROJECT

pytestmark = pytest.mark.browser

SETTINGS = f"/projects/{PROJECT}/settings"


def test_channels__a_log_channel_added_and_tested_by_keyboard__answers_in_place_and_passes_axe(
    browsing: Browsing, server: RunningServer
) -> None:
    page = signed_in(browsing.stranger(), server.admin_token)
    page.goto(SETTINGS)
    assert page.get_by_role("heading", name="Notification channels").count() == 1
    assert_accessible(page)

    # A name the service refuses: the message beside the field, which has the focus.
    name = page.get_by_label("Name of the log channel")
    tab_to(page, name)
    page.keyboard.type("Team Log")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    name = page.get_by_label("Name of the log channel")
    assert name.get_attribute("aria-invalid") == "true"
    assert name.evaluate("field => field === document.activeElement")
    assert "lowercase" in page.locator("#error-channel-log-name").inner_text()
    assert_accessible(page)

    page.keyboard.press("Control+A")
    page.keyboard.type("team-log")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Added the log channel team-log" in page.locator(".flash").inner_text()
    row = page.locator("tr[data-channel='team-log']")
    assert "log" in row.inner_text()

    send = page.get_by_role("button", name="Send a test message to team-log")
    tab_to(page, send)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    answer = page.locator("[data-tested='team-log']")
    assert answer.get_attribute("data-ok") == "yes"
    assert "written to the shipwise.notify log" in answer.inner_text()
    assert answer.evaluate("box => box === document.activeElement")
    assert_accessible(page)
