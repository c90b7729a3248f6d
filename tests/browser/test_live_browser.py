"""Live updates in a real browser (server/web/live.py, static/live.js): a change made
through the API, or by another person's clicks, shows on every open page it concerns
without a reload, and what a person is typing survives it.

Times are measured and printed (pytest -s shows them), never asserted: the 10 s waits
are hang guards. Each time runs from the API call's answer to the change drawn on both
pages, each page in a window of its own: headless Chromium draws a window's background
tab only about once a second, which made a second tab look up to a second late (a real
browser hides a background tab instead, and live.js then closes its stream).
bench/dashboard_live.py measures the parts of that time, tabs and windows both."""

from __future__ import annotations

import statistics
import time

import pytest
from playwright.sync_api import Page, expect
from tests.support.dashboard import Browsing, assert_accessible
from tests.support.team import API, PROJECT, Team, ok

pytestmark = pytest.mark.browser

HANG_GUARD_MS = 10_000
CHANGES = 20
BOARD = f"/projects/{PROJECT}/board"


def release_url(key: str) -> str:
    return f"/projects/{PROJECT}/releases/{key}"


def shows(page: Page, text: str) -> None:
    page.wait_for_function(
        "text => document.querySelector('main').textContent.includes(text)",
        arg=text,
        timeout=HANG_GUARD_MS,
        polling="raf",
    )


def retitle(team: Team, key: str, title: str) -> None:
    ok(team.admin.patch(f"{API}/releases/{key}", json={"title": title}))


def test_live__api_changes__show_on_the_release_page_and_the_board_without_a_reload(
    browsing: Browsing, team: Team
) -> None:
    key = team.release("Live title 0")
    carol = browsing.as_person("carol")
    carol.goto(release_url(key))
    board = browsing.as_person("carol")  # a second window, as a person watches two pages
    board.goto(BOARD)
    # A reload would make a new document: these marks would be gone.
    for page in (carol, board):
        page.evaluate("document.documentElement.dataset.loadedOnce = 'yes'")
    took: list[float] = []
    for n in range(1, CHANGES + 1):
        title = f"Live title {n}"
        retitle(team, key, title)
        started = time.monotonic()
        shows(carol, title)
        shows(board, title)
        took.append(time.monotonic() - started)
    for page in (carol, board):
        assert page.evaluate("document.documentElement.dataset.loadedOnce") == "yes"
    ordered = sorted(took)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    # The measurement the brief asks for, shown with pytest -s.
    print(
        f"\nlive update, API change to both pages drawn, {CHANGES} changes: "
        f"p50 {statistics.median(took) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms; each: {', '.join(f'{t * 1000:.0f}' for t in took)}"
    )
    assert_accessible(carol)  # the notice and the swapped regions included


def test_live__another_persons_approval__shows_on_the_open_release_page(
    browsing: Browsing, team: Team
) -> None:
    key = team.release("Approved elsewhere")
    carol = browsing.as_person("carol")
    carol.goto(release_url(key))
    expect(carol.locator("#release-evidence")).not_to_contain_text("bob for dev")
    bob = browsing.as_person("bob")
    bob.goto(release_url(key))
    with bob.expect_navigation():
        bob.locator("main form[action$='/approve']").get_by_role("button").click()
    expect(carol.locator("#release-evidence")).to_contain_text("bob for dev", timeout=HANG_GUARD_MS)


def test_live__text_typed_into_the_abandon_reason__survives_an_update(
    browsing: Browsing, team: Team
) -> None:
    key = team.release("Typing while it changes")
    carol = browsing.as_person("carol")
    carol.goto(release_url(key))
    reason = carol.locator("main form[action$='/abandon']").get_by_label("Why abandon it?")
    reason.click()
    reason.press_sequentially("superseded by rel-")
    retitle(team, key, "Changed while typing")
    shows(carol, "Changed while typing")
    expect(carol.locator("#live-notice")).to_contain_text("kept")
    # The same field, its text and the focus where they were: typing goes on.
    expect(reason).to_have_value("superseded by rel-")
    expect(reason).to_be_focused()
    reason.press_sequentially("9")
    expect(reason).to_have_value("superseded by rel-9")


def test_live__a_form_swapped_in_by_an_update__still_ignores_a_second_submit(
    browsing: Browsing, team: Team
) -> None:
    """shipwise.js guards every POST form against a double click, the ones live.js
    swaps in after the page loaded too. A listener on ``window`` (after the guard on
    ``document``) counts the submits that would go out and keeps the page here."""
    key = team.release("Swapped form")
    carol = browsing.as_person("carol")
    carol.goto(release_url(key))
    form = "main form[action$='/abandon']"
    carol.evaluate("s => { document.querySelector(s).dataset.loaded = 'yes'; }", form)
    retitle(team, key, "Swapped in")
    shows(carol, "Swapped in")
    outcome = carol.evaluate(
        """selector => {
            const form = document.querySelector(selector);
            form.querySelector("[name='reason']").value = "superseded";
            let sent = 0;
            window.addEventListener("submit", (event) => {
                if (!event.defaultPrevented) sent += 1;
                event.preventDefault();
            });
            form.requestSubmit();
            form.requestSubmit();
            return {swapped: form.dataset.loaded === undefined, sent: sent};
        }""",
        form,
    )
    assert outcome == {"swapped": True, "sent": 1}
