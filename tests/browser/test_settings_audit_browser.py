"""The audit log and the settings page in a real browser, checked by axe-core as a
person's browser draws them: the audit log filtered, with the chain's badge; the
settings page as it first shows, with a token just created (its secret shown once) and
with a policy's problems listed beside the field."""

from __future__ import annotations

import re

import pytest
from tests.support.dashboard import Browsing, assert_accessible, signed_in
from tests.support.server import RunningServer
from tests.support.team import PROJECT, Team

pytestmark = pytest.mark.browser

SETTINGS = f"/projects/{PROJECT}/settings"


def test_audit_page__filtered_with_the_chain_badge__passes_axe(
    browsing: Browsing, server: RunningServer, team: Team
) -> None:
    team.flag("audit-me")
    page = signed_in(browsing.stranger(), server.admin_token)
    page.goto(f"/projects/{PROJECT}/audit")
    page.get_by_label("Object key").fill("audit-me")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()

    assert "target_key=audit-me" in page.url
    assert page.locator("[data-chain='not-checked']").count() == 1
    with page.expect_navigation():
        page.get_by_role("button", name="Check the hash chain").click()
    assert page.locator("[data-chain='intact']").count() == 1
    rows = page.locator("tbody tr")
    assert rows.count() == 1
    assert "flag.create" in rows.first.inner_text()
    assert_accessible(page)


def test_settings_page__a_token_created_and_a_policy_refused__pass_axe(
    browsing: Browsing, server: RunningServer
) -> None:
    page = signed_in(browsing.stranger(), server.admin_token)
    page.goto(SETTINGS)
    assert page.get_by_role("heading", name="Environments and pipeline").count() == 1
    assert_accessible(page)

    page.get_by_label("Name", exact=True).fill("browser-web")  # not a channel's name
    page.get_by_label("Kind").select_option("server")
    page.get_by_label("Environment (SDK keys)").select_option("dev")
    with page.expect_navigation():
        page.get_by_role("button", name="Create").click()
    secret = page.get_by_label("Secret of browser-web").input_value()
    assert re.fullmatch(r"sw_srv_\S+", secret)
    assert_accessible(page)

    page.get_by_label("Apply a new policy (shipwise.toml)").fill("[window]\nstart = 5\nnope = 1\n")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply the policy").click()
    problems = page.locator("#policy-problems li")
    assert problems.count() == 2
    assert (
        page.get_by_label("Apply a new policy (shipwise.toml)").get_attribute("aria-invalid")
        == "true"
    )
    assert_accessible(page)
