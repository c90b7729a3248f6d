"""Debian's Chromium, driven by Playwright, for the browser tests (/docs, /redoc and the
dashboard), on a network that reaches only the Shipwise server under test.

Chromium comes from SHIPWISE_TEST_CHROMIUM, which scripts/test sets (installing Debian's
chromium package when run as root), else /usr/bin/chromium. Without it a test fails:
Playwright's own browser download cannot be used on a closed network."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Route,
    sync_playwright,
)

CHROMIUM = Path(os.environ.get("SHIPWISE_TEST_CHROMIUM", "/usr/bin/chromium"))
# Headless in a container as root: no sandbox, no GPU; and no background calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for the duration of the block; fails the test without one."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run scripts/test (it installs Debian's chromium as "
            "root) or set SHIPWISE_TEST_CHROMIUM",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Offline:
    """A browser context whose requests reach only the server; every other one is
    recorded and aborted, as on a network that reaches nothing else. Pages opened in it
    resolve relative URLs against the server. What the pages' Content-Security-Policy
    blocked (an inline script or style attribute) is recorded too: Chromium says so only
    on the console."""

    def __init__(self, browser: Browser, server_url: str) -> None:
        # A desktop window: the README's screenshots are taken at this size.
        self.context: BrowserContext = browser.new_context(
            base_url=server_url, viewport={"width": 1280, "height": 800}
        )
        self.elsewhere: list[str] = []
        self.blocked_by_policy: list[str] = []
        self._host = urlsplit(server_url).netloc
        self.context.route("**/*", self._route)
        self.context.on("console", self._console)
        self.page: Page = self.context.new_page()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.blocked_by_policy.append(f"{message.location.get('url')}: {message.text}")

    def _route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == self._host:
            route.continue_()
        else:
            self.elsewhere.append(url)
            route.abort("internetdisconnected")

    def close(self) -> None:
        self.context.close()
