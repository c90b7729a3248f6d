"""/docs and /redoc in a real browser (Debian's Chromium, driven by Playwright) with every
host but the Shipwise server blocked: the pages must still draw the API's operations,
and no request may even try to leave the server (the pages' Content-Security-Policy
stops ReDoc's logo from cdn.redoc.ly before it reaches the network).

The browser and the blocked network come from tests/support/chromium.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from tests.support.chromium import Offline, chromium
from tests.support.server import RunningServer, running_server

RENDER_MS = 30_000  # the first draw of a 1.5 MB bundle on a loaded 2-core machine

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(data_dir=Path(tmp_path_factory.mktemp("docs-browser"))) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def offline(browser: Browser, server: RunningServer) -> Iterator[Offline]:
    page = Offline(browser, server.url)
    yield page
    page.close()


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
