"""A release's learnings written by keyboard alone in a real browser: each field reached
with Tab, typed, saved with Enter on the button; the action item and the added timeline
line then listed; axe-core on the page before and after."""

from __future__ import annotations

import pytest
from tests.support.dashboard import Browsing, assert_accessible, tab_to
from tests.support.team import PROJECT, Team

pytestmark = pytest.mark.browser


def test_learnings__written_by_keyboard__are_saved_and_listed(
    browsing: Browsing, team: Team
) -> None:
    key = team.release("Gift cards")
    page = browsing.as_person("alice")
    page.goto(f"/projects/{PROJECT}/releases/{key}/learnings")
    assert_accessible(page)

    typed = {
        "What went well": "The beta testers found the coupon bug before 25%.",
        "What did not go well": "Nobody watched the first hour of the 50% step.",
        "Action items": "Send the notice in business hours | carol | 2026-12-31",
        "Timeline lines to add": "2026-12-06T14:30Z | dan | Saw the slow query",
    }
    for label, text in typed.items():
        field = page.get_by_role("textbox", name=label, exact=True)
        tab_to(page, field)
        page.keyboard.type(text)
    save = page.get_by_role("button", name="Save the learnings")
    tab_to(page, save)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    items = page.get_by_role("table", name=f"Action items of {key}")
    assert "Send the notice in business hours" in items.inner_text()
    assert "carol" in items.inner_text()
    timeline = page.locator("section[aria-labelledby=learnings-timeline-heading]")
    assert "Saw the slow query (added)" in timeline.inner_text()
    went_well = page.get_by_role("textbox", name="What went well", exact=True)
    assert went_well.input_value() == typed["What went well"]
    assert_accessible(page)
