"""One release walked dev -> staging -> production by clicking, in a real browser: each
person signed in in a browser of their own (approvals from two people who are not the
author, the QA sign-off by QA, the rollback drill and every promotion by the release
manager), and one promotion on the way refused with every failing gate in place and
nothing changed.

What the dashboard cannot record is posted through the API as a CI pipeline would:
the CI result for the release's commit (tests.support.team.Team.release) and its deploys
to dev and staging (Team.deployed). The server's clock stands on a Wednesday morning, so
production's business-hours gate passes whenever the test runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Page
from tests.browser.test_releases_browser import (
    action,
    flash,
    gates,
    release_page,
    remedy_parts,
    words,
)
from tests.support.clock import ManualClock
from tests.support.dashboard import Browsing, assert_accessible, tab_to
from tests.support.server import RunningServer, running_server
from tests.support.team import Team

pytestmark = pytest.mark.browser

WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # inside the default business hours
DRILL_NOTE = "Switched it off in staging; checkout fell back in 2 s."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The browser tests' server (conftest.py), on a clock inside business hours."""
    data_dir = tmp_path_factory.mktemp("release-walk")
    with running_server(data_dir=data_dir, clock=ManualClock(WEDNESDAY_10)) as running:
        yield running


def opened(page: Page, key: str) -> Page:
    """The release page, fresh, checked by axe-core as it is first seen."""
    release_page(page, key)
    assert_accessible(page)
    return page


def clicked(page: Page, name: str) -> str:
    """Click the release page's ``name`` button; the flash of the page it leads back to
    (checked by axe-core too)."""
    with page.expect_navigation():
        action(page, name).click()
    assert_accessible(page)
    return flash(page)


def promoted_by_click(carol: Page, key: str, target: str, team: Team) -> None:
    assert not team.failing_gates(key), team.failing_gates(key)
    shown = clicked(opened(carol, key), "promote")
    assert f"Promoted {key} to {target}" in shown
    assert team.stage(key) == target


def promotion_refused(page: Page, failing: list[dict[str, Any]]) -> None:
    """Click Promote on ``page`` and see it refused (409): the refusal, with the focus,
    lists each of the ``failing`` gates (as the API reported them) with what satisfies
    it, and the page shows every word and command of each remedy."""
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        action(page, "promote").click()
    page.wait_for_load_state()
    assert answer.value.status == 409
    refusal = page.locator("main").get_by_role("alert")
    assert "Promotion refused; nothing changed." in refusal.inner_text()
    assert refusal.evaluate("alert => alert === document.activeElement")  # read out first
    listed = [words(item) for item in refusal.get_by_role("listitem").all_inner_texts()]
    assert len(listed) == len(failing), listed
    for gate in failing:
        assert any(remedy_parts(gate["remedy"])[0] in item for item in listed), (gate, listed)
    shown = words(page.locator("main").inner_text())
    missing = [
        (gate["gate"], part)
        for gate in failing
        for part in remedy_parts(gate["remedy"])
        if part not in shown
    ]
    assert not missing, f"failing gates not shown in place: {missing}\n{shown}"
    assert_accessible(page)


def drill_recorded_by_keyboard(page: Page, note: str) -> None:
    """Record a successful rollback drill with ``note`` using the keyboard alone: Tab to
    "Succeeded", Space, Tab to the note, type it, Enter."""
    drill = page.locator("main form[action$='/drill']")
    tab_to(page, drill.get_by_label("Succeeded"))
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert drill.get_by_label("What happened").evaluate("field => field === document.activeElement")
    page.keyboard.type(note)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_release__walked_to_production_by_clicking__passes_every_gate_after_one_refusal(
    browsing: Browsing, team: Team
) -> None:
    key = team.release("Address book")  # alice's; CI green for its commit
    bob, carol, quinn = (browsing.as_person(name) for name in ("bob", "carol", "quinn"))

    # Into dev: bob's approval, then carol promotes.
    assert "approvals" in gates(team.failing_gates(key))
    assert f"bob approved {key}" in clicked(opened(bob, key), "approve")
    promoted_by_click(carol, key, "dev", team)

    # Into staging: the dev deploy (from CI), an approval for staging, the promotion.
    team.deployed(key, "dev")
    assert gates(team.failing_gates(key)) == {"approvals"}
    clicked(opened(bob, key), "approve")
    promoted_by_click(carol, key, "staging", team)

    # Towards production: two approvals, each in its own browser; neither is the author.
    clicked(opened(bob, key), "approve")
    clicked(opened(carol, key), "approve")
    assert "approvals" not in gates(team.failing_gates(key))

    # Refused: no QA sign-off, no drill, nothing deployed to staging yet. Every failing
    # gate is on the page, with what satisfies it, and nothing changed.
    failing = team.failing_gates(key)
    assert {"signoff:qa", "rollback-drill", "previous-deploy"} <= gates(failing)
    before = team.release_state(key)
    promotion_refused(opened(carol, key), failing)
    assert team.release_state(key) == before
    assert team.stage(key) == "staging"

    # QA signs off by keyboard alone: Tab to the button, Enter.
    opened(quinn, key)
    tab_to(quinn, action(quinn, "signoff"))
    with quinn.expect_navigation():
        quinn.keyboard.press("Enter")
    assert f"quinn signed {key} off for QA" in flash(quinn)
    assert_accessible(quinn)

    # Carol records the rollback drill by keyboard too: the radio, the note, Enter.
    drill_recorded_by_keyboard(opened(carol, key), DRILL_NOTE)
    assert f"Recorded a successful rollback drill of {key}" in flash(carol)
    drills = words(carol.locator("#release-rollback").inner_text())
    assert f"Drill in staging: succeeded, {WEDNESDAY_10:%Y-%m-%d %H:%M} UTC: {DRILL_NOTE}" in drills
    assert_accessible(carol)

    # The staging deploy, from CI; then every gate passes and a click ships it.
    team.deployed(key, "staging")
    promoted_by_click(carol, key, "production", team)
