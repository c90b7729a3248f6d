"""/docs and /redoc in a real browser (Debian's Chromium, driven by Playwright) with every
host but the Shipwise server blocked: the pages must still draw the API's operations,
and no request may even try to leave the server (the pages' Content-Security-Policy
stops ReDoc's logo from cdn.redoc.ly before it reaches the network).

Chromium comes from SHIPWISE_TEST_CHROMIUM, which scripts/test sets (installing Debian's
chromium package when run as root), else /usr/bin/chromium. Without it the test fails:
Playwright's own browser download cannot be used on a closed network."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright
from tests.support.server import RunningServer, running_server

CHROMIUM = Path(os.environ.get("SHIPWISE_TEST_CHROMIUM", "/usr/bin/chromium"))
# Headless in a container as root: no sandbox, no GPU; and no background calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RENDER_MS = 30_000  # the first draw of a 1.5 MB bundle on a loaded 2-core machine


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(data_dir=Path(tmp_path_factory.mktemp("docs-browser"))) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run scripts/test (it installs Debian's chromium as "
            "root) or set SHIPWISE_TEST_CHROMIUM",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Offline:
    """A page whose requests reach only the server; every other one is recorded and
    aborted, as on a network that reaches nothing else."""

    def __init__(self, browser: Browser, server: RunningServer) -> None:
        self.page: Page = browser.new_page()
        self.elsewhere: list[str] = []
        self._host = urlsplit(server.url).netloc
        self.page.route("**/*", self._route)

    def _route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == self._host:
            route.continue_()
        else:
            self.elsewhere.append(url)
            route.abort("internetdisconnected")


@pytest.fixture
def offline(browser: Browser, server: RunningServer) -> Iterator[Offline]:
    page = Offline(browser, server)
    yield page
    page.page.close()


def _operations(server: RunningServer) -> int:
    with server.admin() as client:
        spec = client.get("/openapi.json").json()
    return sum(
        method in {"get", "put", "post", "delete", "patch", "head", "options"}
        for path in spec["paths"].values()
        for method in path
    )


def test_swagger_ui__with_other_hosts_blocked__lists_every_operation(
    offline: Offline, server: RunningServer
) -> None:
    offline.page.goto(f"{server.url}/docs")
    offline.page.wait_for_selector(".opblock", timeout=RENDER_MS)

    assert offline.page.locator(".opblock").count() == _operations(server)
    assert offline.elsewhere == []


def test_redoc__with_other_hosts_blocked__lists_every_operation_and_searches(
    offline: Offline, server: RunningServer
) -> None:
    offline.page.goto(f"{server.url}/redoc")
    offline.page.wait_for_selector("[data-section-id^='operation/']", timeout=RENDER_MS)
    operations = offline.page.locator("[data-section-id^='operation/']").count()
    # ReDoc searches in a web worker made from a blob: URL, which the policy must allow.
    offline.page.fill("input[placeholder='Search...']", "flag")
    offline.page.wait_for_selector("[data-role='search:results'] li", timeout=RENDER_MS)

    assert operations == _operations(server)
    assert offline.elsewhere == []
