"""Forged form posts from a real browser page, the way a hostile script on the page (or
a person with the developer tools) would send them: ``fetch`` from the signed-in page,
same origin, the session cookie attached by the browser. A viewer's post that carries a
valid CSRF token is still 403 (the role decides, not the form); a developer's post
without the CSRF token is 403; neither changes the flag. The same post with the token,
from the developer, goes through: the refusals were about the token and the role."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page
from tests.support.dashboard import Browsing
from tests.support.team import PROJECT, Team

pytestmark = pytest.mark.browser

FLAG = "forged-wrap"
TOGGLE = f"/projects/{PROJECT}/flags/{FLAG}/envs/dev/toggle"

# Posts a form body from the page itself; answers the status (redirects not followed).
POST = """async ([url, fields]) => {
  const body = new URLSearchParams(fields);
  const answer = await fetch(url, {method: "POST", body, redirect: "manual"});
  return answer.type === "opaqueredirect" ? 303 : answer.status;
}"""


def csrf_of(page: Page) -> str:
    """The session's CSRF token, from the sign-out form every signed-in page carries."""
    token = page.locator("form[action='/sign-out'] input[name='csrf_token']").input_value()
    assert token
    return token


def post(page: Page, fields: dict[str, Any]) -> int:
    status = page.evaluate(POST, [TOGGLE, {k: str(v) for k, v in fields.items()}])
    assert isinstance(status, int)
    return status


def test_forged_posts__a_viewers_and_one_without_csrf__are_403_and_change_nothing(
    browsing: Browsing, team: Team
) -> None:
    team.flag(FLAG)
    before = team.rules(FLAG, "dev")
    assert before["enabled"] is False
    wanted = {"enabled": "true", "version": before["version"]}

    vic = browsing.as_person("vic")
    vic.goto(f"/projects/{PROJECT}/flags/{FLAG}")
    assert post(vic, {**wanted, "csrf_token": csrf_of(vic)}) == 403

    alice = browsing.as_person("alice")
    alice.goto(f"/projects/{PROJECT}/flags/{FLAG}")
    assert post(alice, wanted) == 403
    assert post(alice, {**wanted, "csrf_token": "not-the-sessions-token"}) == 403

    assert team.rules(FLAG, "dev") == before  # nothing changed
    assert post(alice, {**wanted, "csrf_token": csrf_of(alice)}) == 303
    assert team.rules(FLAG, "dev")["enabled"] is True
