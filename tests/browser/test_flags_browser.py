"""The flags table and the flag page in a real browser: a flag switched on with nothing but
the keyboard (Tab to its toggle, Enter), and a real SDK client on that environment getting
the change from the server; a viewer sees the flag but no control to change it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page
from tests.support.dashboard import Browsing, assert_accessible, tab_to
from tests.support.server import RunningServer
from tests.support.team import PROJECT, Team

from shipwise import Client

pytestmark = pytest.mark.browser

ENVIRONMENT = "dev"  # not protected: switching on there is one step for a developer
SDK_WAIT = 30  # seconds: a hang guard for the stream's delivery, not a latency bound
USER = {"userId": "42"}


@pytest.fixture
def sdk(server: RunningServer, team: Team) -> Iterator[Client]:
    client = Client(server.url, team.sdk_key(ENVIRONMENT), app_name="browser-tests")
    try:
        assert client.wait_until_ready(SDK_WAIT)
        yield client
    finally:
        client.close()


def flag_page(page: Page, flag: str) -> Page:
    page.goto(f"/projects/{PROJECT}/flags/{flag}")
    return page


def until_enabled(client: Client, flag: str) -> bool:
    deadline = time.monotonic() + SDK_WAIT
    while not client.is_enabled(flag, USER):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_flags_table__lists_a_new_flag_per_environment_and_passes_axe(
    browsing: Browsing, team: Team
) -> None:
    team.flag("compact-cart")
    page = browsing.as_person("alice")
    page.goto(f"/projects/{PROJECT}/flags")

    assert page.locator("main").get_by_text("compact-cart").count() >= 1
    assert_accessible(page)


def test_flag_page__toggled_on_by_keyboard_only__reaches_a_real_sdk_client(
    browsing: Browsing, team: Team, sdk: Client
) -> None:
    team.flag("dark-mode")
    assert not sdk.is_enabled("dark-mode", USER)
    page = flag_page(browsing.as_person("alice"), "dark-mode")
    assert_accessible(page)
    toggle = page.locator(f"main form[action$='/envs/{ENVIRONMENT}/toggle']").get_by_role("button")

    tab_to(page, toggle)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.get_by_role("status").inner_text().strip()
    assert until_enabled(sdk, "dark-mode"), "the SDK never saw dark-mode switched on"
    assert_accessible(page)


def test_viewer__on_the_flag_pages__sees_no_action_controls(browsing: Browsing, team: Team) -> None:
    team.flag("gift-wrap")
    page = browsing.as_person("vic")

    for path in (f"/projects/{PROJECT}/flags", f"/projects/{PROJECT}/flags/gift-wrap"):
        page.goto(path)
        assert page.locator("main").get_by_text("gift-wrap").count() >= 1, path
        assert page.locator("main form[method='post' i]").count() == 0, path
