"""Signing in to the dashboard in a real browser: with a personal token through the form,
and with a one-time link an admin made (`POST /api/v1/sign-in-links`, what `shipwise
login-link` calls), which works once."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page
from tests.support.dashboard import Browsing, assert_accessible, signed_in
from tests.support.team import Team, ok

pytestmark = pytest.mark.browser

SIGN_IN_AS = re.compile("sign in", re.IGNORECASE)


def _path(page: Page) -> str:
    return urlsplit(page.url).path


def _one_time_link(team: Team, name: str) -> str:
    """The path of a fresh one-time sign-in link for ``name``, made by the admin."""
    made = ok(team.admin.post("/api/v1/sign-in-links", json={"name": name}))
    return str(made["path"])


def test_sign_in__with_a_personal_token__opens_the_board_signed_in(
    browsing: Browsing, team: Team
) -> None:
    page = browsing.stranger()
    page.goto("/projects/default/board")
    assert _path(page) == "/sign-in"  # sent to sign in first, and back afterwards
    assert_accessible(page)

    signed_in(page, team.tokens["carol"])

    assert _path(page) == "/projects/default/board"
    assert page.get_by_role("button", name=re.compile("sign out", re.IGNORECASE)).is_visible()


def test_sign_in__with_a_wrong_token__stays_on_the_form_with_the_error_beside_the_field(
    browsing: Browsing,
) -> None:
    page = browsing.stranger()
    page.goto("/sign-in")
    field = page.get_by_label(re.compile("token", re.IGNORECASE))
    field.fill("sw_api_not-a-token")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("form", has=field).get_by_role("button").click()
    page.wait_for_load_state()

    assert answer.value.status in {401, 422}
    assert _path(page) == "/sign-in"
    described_by = field.get_attribute("aria-describedby") or ""
    assert described_by, "the error is not tied to the token field"
    assert page.locator(f"#{described_by.split()[0]}").inner_text().strip()
    assert_accessible(page)


def test_one_time_link__signs_in_once__and_a_second_use_is_refused(
    browsing: Browsing, team: Team
) -> None:
    link = _one_time_link(team, "bob")
    first = browsing.stranger()
    first.goto(link)
    assert_accessible(first)  # the page a link scanner sees: a button, nothing consumed

    with first.expect_navigation():
        first.get_by_role("button", name=SIGN_IN_AS).click()

    assert not _path(first).startswith("/sign-in")
    first.goto("/projects/default/board")
    assert _path(first) == "/projects/default/board"  # signed in: not sent to sign in
    second = browsing.stranger()
    shown = second.goto(link)
    assert shown is not None
    status = shown.status
    if shown.ok:  # the page may not say so before the button is pressed; pressing fails
        with second.expect_response(lambda r: r.request.method == "POST") as answer:
            second.get_by_role("button", name=SIGN_IN_AS).click()
        status = answer.value.status
    second.wait_for_load_state()
    assert 400 <= status < 500
    second.goto("/projects/default/board")
    assert _path(second) == "/sign-in"
