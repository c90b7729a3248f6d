"""A change request in a real browser: alice asks (through the API, as the CLI's
``shipwise change request`` does) to switch a flag on for a quarter of production; bob
and carol each approve it on its page by a click, bob applies it by a click, and the
flag is on in production. The list and the request's page pass axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page
from tests.support.dashboard import Browsing, assert_accessible
from tests.support.team import API, PROJECT, Team, ok

pytestmark = pytest.mark.browser

LIST = f"/projects/{PROJECT}/change-requests"


def action(page: Page, name: str) -> Locator:
    """The button of the form that posts to the action ``name`` (approve, apply, …)."""
    return page.locator(f"main form[action$='/{name}']").get_by_role("button")


def test_change_request__approved_by_two_others_and_applied__by_clicks(
    browsing: Browsing, team: Team
) -> None:
    team.flag("gift-cards")
    rules = {
        "enabled": True,
        "strategies": [
            {
                "name": "flexibleRollout",
                "parameters": {"rollout": "25", "stickiness": "default", "groupId": "gift-cards"},
            }
        ],
    }
    body = {
        "kind": "flag",
        "flag": "gift-cards",
        "environment": "production",
        "rules": rules,
        "reason": "launch",
    }
    asked = ok(
        team.admin.post(f"{API}/change-requests", json=body, headers=team.as_person("alice"))
    )
    url = f"{LIST}/{asked['id']}"

    # bob finds it from the navigation, opens it, reads what it changes and approves.
    bob = browsing.as_person("bob")
    bob.goto(f"/projects/{PROJECT}/board")
    with bob.expect_navigation():
        bob.get_by_role("link", name="Change requests").click()
    assert_accessible(bob)
    with bob.expect_navigation():
        bob.get_by_role("link", name="flag 'gift-cards' in production").click()
    assert bob.url.endswith(url)
    assert "serves 25% of users by default" in bob.locator("main").inner_text()
    assert_accessible(bob)
    with bob.expect_navigation():
        action(bob, "approve").click()
    assert "1 of 2 approvals (bob)" in bob.locator("main").inner_text()
    assert team.rules("gift-cards", "production")["enabled"] is False

    # carol approves too: two people, neither of them alice.
    carol = browsing.as_person("carol")
    carol.goto(url)
    with carol.expect_navigation():
        action(carol, "approve").click()
    assert "approved" in carol.locator("main").inner_text()

    # bob applies it.
    bob.goto(url)
    with bob.expect_navigation():
        action(bob, "apply").click()
    assert "Applied change request" in bob.get_by_role("status").inner_text()
    assert_accessible(bob)
    production = team.rules("gift-cards", "production")
    assert production["enabled"] is True
    assert production["strategies"][0]["parameters"]["rollout"] == "25"
