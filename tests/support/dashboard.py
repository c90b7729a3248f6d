"""Helpers for the dashboard's browser tests: signing in through the real form, checking
a page with axe-core, reaching a control by keyboard alone, and the README's screenshots.

axe-core comes from SHIPWISE_AXE, the path of its axe.min.js, which scripts/test installs
from npm (pinned) and exports. Without it the checks fail rather than skip."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page
from tests.support.chromium import Offline

AXE_VARIABLE = "SHIPWISE_AXE"
# axe-core's impacts, mildest first; these two fail a page (the other two are advice).
FAILING_IMPACTS = frozenset({"serious", "critical"})
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
MAX_TABS = 200  # a hang guard: more stops than any page of ours has
TOKEN_LABEL = re.compile("token", re.IGNORECASE)


@cache
def _axe_source() -> str:
    path = os.environ.get(AXE_VARIABLE)
    if not path or not Path(path).is_file():
        pytest.fail(
            f"{AXE_VARIABLE} does not name axe.min.js ({path!r}): run scripts/test, which "
            "installs axe-core from npm",
            pytrace=False,
        )
    return Path(path).read_text(encoding="utf-8")


def signed_in(page: Page, token: str) -> Page:
    """Sign ``page``'s browser context in with a personal token through the real /sign-in
    form (label, field, button), as a person would; fails if the form refuses it."""
    shown = page.goto("/sign-in")
    if shown is None or not shown.ok:
        pytest.fail(f"GET /sign-in answered {shown and shown.status}: no sign-in form")
    field = page.get_by_label(TOKEN_LABEL)
    field.fill(token)
    with page.expect_navigation():
        page.locator("form", has=field).get_by_role("button").click()
    if urlsplit(page.url).path == "/sign-in":
        pytest.fail(f"the sign-in form refused the token: {page.locator('main').inner_text()}")
    return page


class Browsing:
    """Browser contexts for one test, each its own person (cookies apart), closed and
    checked when the test ends."""

    def __init__(self, browser: Browser, server_url: str, tokens: dict[str, str]) -> None:
        self._browser = browser
        self._server_url = server_url
        self._tokens = tokens
        self.opened: list[Offline] = []

    def stranger(self) -> Page:
        """A page in a fresh context, signed in as nobody."""
        offline = Offline(self._browser, self._server_url)
        self.opened.append(offline)
        return offline.page

    def as_person(self, name: str) -> Page:
        """A page in a fresh context, signed in as ``name`` through the /sign-in form."""
        return signed_in(self.stranger(), self._tokens[name])

    def close(self) -> None:
        for offline in self.opened:
            offline.close()

    def leaks(self) -> list[str]:
        return [
            *(f"request to another host: {url}" for o in self.opened for url in o.elsewhere),
            *(
                f"blocked by the policy: {text}"
                for o in self.opened
                for text in o.blocked_by_policy
            ),
        ]


def assert_accessible(page: Page) -> None:
    """Run axe-core on the page as it stands; fail on any serious or critical violation,
    each listed with its rule, what to do and the elements at fault."""
    # Not page.add_script_tag: that inserts an inline <script>, which the dashboard's
    # Content-Security-Policy (default-src 'self') rightly blocks. Evaluating through the
    # DevTools protocol runs outside the page's policy, so the policy stays on while axe
    # checks the page exactly as a person's browser draws it.
    page.evaluate(_axe_source())
    results: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    failing = [v for v in results["violations"] if v.get("impact") in FAILING_IMPACTS]
    assert not failing, f"axe-core on {page.url}:\n" + "\n".join(map(_described, failing))


def _described(violation: dict[str, Any]) -> str:
    lines = [f"- {violation['id']} ({violation['impact']}): {violation['help']}"]
    for node in violation["nodes"]:
        lines.append(f"    at {' '.join(node['target'])}: {node['html'][:160]}")
        if node.get("failureSummary"):
            lines.append("      " + node["failureSummary"].replace("\n", "\n      "))
    return "\n".join(lines)


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab, from the top of the page, until ``target`` has the focus: the control
    is reachable by keyboard, in order, with nothing but the keyboard."""
    page.locator("body").focus()
    visited: list[str] = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
        visited.append(page.evaluate("document.activeElement?.outerHTML.slice(0, 80) ?? ''"))
    pytest.fail(f"Tab never reached {target}; it stopped at:\n" + "\n".join(visited[:40]))


def screenshot(page: Page, name: str) -> None:
    """Save the page to docs/images/<name>.png for the README, only when
    SHIPWISE_SCREENSHOTS=1: the pictures come from these tests, never by hand."""
    if os.environ.get("SHIPWISE_SCREENSHOTS") == "1":
        IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=IMAGES / f"{name}.png", full_page=True)
