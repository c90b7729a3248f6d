"""The dashboard's layout in a real browser at a phone's width (320 px) and a desktop's
(1280 px): the board's columns stay on one row ("Released" never wraps under the
others; on a phone the board scrolls sideways, the page does not), the flag pages fit
their window with their wide tables scrolling inside, and axe-core passes at both
widths (contrast included, and a scrolling region reachable by keyboard)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page
from tests.support.dashboard import Browsing, assert_accessible
from tests.support.team import PROJECT, Team

pytestmark = pytest.mark.browser

WIDTHS = [320, 1280]
HEIGHT = 800


def opened(page: Page, width: int, path: str) -> Page:
    page.set_viewport_size({"width": width, "height": HEIGHT})
    page.goto(path)
    return page


def page_width(page: Page) -> int:
    """How wide the page's content is: more than the window means it scrolls sideways."""
    return int(page.evaluate("document.documentElement.scrollWidth"))


def box(page: Page, selector: str) -> dict[str, Any]:
    return page.eval_on_selector(
        selector,
        "e => ({scrollWidth: e.scrollWidth, clientWidth: e.clientWidth})",
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_board__at_320_and_1280_px__keeps_its_columns_on_one_row_and_the_page_in_the_window(
    browsing: Browsing, team: Team, width: int
) -> None:
    team.release("Narrow screens")
    page = opened(browsing.as_person("carol"), width, f"/projects/{PROJECT}/board")

    tops = page.eval_on_selector_all(
        "main .column", "columns => columns.map(c => Math.round(c.getBoundingClientRect().top))"
    )
    assert len(tops) >= 6, tops  # new, dev, staging, production, rolling out, released
    assert len(set(tops)) == 1, f"the columns are on {len(set(tops))} rows at {width} px: {tops}"
    assert page_width(page) <= width
    board = box(page, "main .board")
    if width == 320:  # six columns do not fit a phone: the board scrolls, on its own
        assert board["scrollWidth"] > board["clientWidth"], board
    else:  # a desktop shows them all
        assert board["scrollWidth"] <= board["clientWidth"], board
    assert_accessible(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_flag_pages__at_320_and_1280_px__fit_the_window_and_pass_axe(
    browsing: Browsing, team: Team, width: int
) -> None:
    flag = f"narrow-layout-{width}"
    team.flag(flag)
    page = browsing.as_person("alice")

    for path in (f"/projects/{PROJECT}/flags", f"/projects/{PROJECT}/flags/{flag}?compare=dev"):
        opened(page, width, path)
        assert page_width(page) <= width, path
        assert_accessible(page)
