"""The release page's monitoring schedule in a real browser: the table of steps read by
axe-core, and a calendar feed link made by a click, its one-time address
shown in a field a person can select (axe-core again, with the address on the page)."""

from __future__ import annotations

import pytest
from tests.support.dashboard import Browsing, assert_accessible
from tests.support.server import RunningServer
from tests.support.team import PROJECT, Team

pytestmark = pytest.mark.browser


def test_release_page__schedule_and_a_new_calendar_feed_link__pass_axe(
    browsing: Browsing, team: Team, server: RunningServer
) -> None:
    key = team.release("Gift cards")
    page = browsing.as_person("carol")
    page.goto(f"/projects/{PROJECT}/releases/{key}")

    schedule = page.locator("#release-schedule")
    table = schedule.get_by_role("table", name=f"Each step of {key} in production")
    assert table.locator("tbody tr").count() == 4  # the default plan: three steps, the bake
    assert "An estimate" in schedule.inner_text()
    assert_accessible(page)

    with page.expect_navigation():
        schedule.get_by_label("Whose calendar (optional)").fill("carol's laptop")
        schedule.get_by_role("button", name="Make a calendar feed link").click()

    address = page.get_by_label("Address of calendar feed", exact=False)
    assert address.input_value().startswith(f"{server.url}/calendar/sw_cal_")
    assert "carol's laptop" in page.locator(".issued").inner_text()
    assert_accessible(page)
