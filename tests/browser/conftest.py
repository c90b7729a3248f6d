"""The dashboard in a real browser: one real Shipwise server per test module (uvicorn on
127.0.0.1, SQLite; the pages' storage paths run on both databases in the integration
tests), Debian's Chromium driven by Playwright on a network that reaches only that
server, and a team of people with personal tokens made through the admin API.

Every page a test opened is checked when the test ends: no request left for another
host, and the Content-Security-Policy blocked nothing (no inline script or style)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser
from tests.support.chromium import chromium
from tests.support.dashboard import Browsing
from tests.support.server import RunningServer, running_server
from tests.support.team import Team


# Per module, not per session: Playwright's sync API runs one instance at a time in a
# process, and tests/e2e/test_docs_browser.py starts its own for its module.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(data_dir=tmp_path_factory.mktemp("dashboard")) as running:
        yield running


@pytest.fixture(scope="module")
def team(server: RunningServer) -> Iterator[Team]:
    with server.admin() as admin:
        yield Team(admin)


@pytest.fixture
def browsing(browser: Browser, server: RunningServer, team: Team) -> Iterator[Browsing]:
    pages = Browsing(browser, server.url, team.tokens)
    try:
        yield pages
        leaks = pages.leaks()
    finally:
        pages.close()
    assert not leaks, "\n".join(leaks)
