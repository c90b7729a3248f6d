"""/docs and /redoc on a real server: every file they load comes from Shipwise itself, so
the pages work on a network that reaches nothing else (the browser proof is in
tests/e2e/test_docs_browser.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from tests.support.server import RunningServer, running_server

PAGES = ("/docs", "/redoc")
# Both names of JavaScript's type are ones a browser runs (the system's mime.types picks).
EXPECTED_TYPES = {
    ".js": {"text/javascript", "application/javascript"},
    ".css": {"text/css"},
    ".png": {"image/png"},
    ".json": {"application/json"},
}
# The spec Swagger UI is told to load, in its inline script ("url: '/openapi.json'").
_SCRIPT_URL = re.compile(r"""\burl:\s*['"]([^'"]+)['"]""")


class _References(HTMLParser):
    """Every URL a page makes the browser fetch: src and href attributes, ReDoc's
    spec-url, and the spec URL in Swagger UI's inline set-up script."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        for name, value in attrs:
            if name in {"src", "href", "spec-url"} and value:
                self.urls.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.urls.extend(_SCRIPT_URL.findall(data))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(data_dir=Path(tmp_path_factory.mktemp("docs"))) as running:
        yield running


def _references(url: str) -> list[str]:
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200, page.text
    parser = _References()
    parser.feed(page.text)
    return parser.urls


@pytest.mark.parametrize("page", PAGES)
def test_docs_page__when_loaded__references_only_its_own_server(
    server: RunningServer, page: str
) -> None:
    references = _references(server.url + page)

    assert references, "the page references nothing: the parser missed its assets"
    elsewhere = [
        ref
        for ref in references
        if urlsplit(urljoin(server.url + page, ref)).netloc != urlsplit(server.url).netloc
    ]
    assert elsewhere == []


@pytest.mark.parametrize("page", PAGES)
def test_docs_page__each_file_it_loads__answers_200_with_its_content_type(
    server: RunningServer, page: str
) -> None:
    references = _references(server.url + page)
    assets = [ref for ref in references if Path(urlsplit(ref).path).suffix in EXPECTED_TYPES]

    assert {Path(urlsplit(ref).path).suffix for ref in assets} >= (
        {".js", ".css", ".png", ".json"} if page == "/docs" else {".js", ".png", ".json"}
    )
    for ref in assets:
        response = httpx.get(urljoin(server.url + page, ref), timeout=10)
        assert response.status_code == 200, ref
        content_type = response.headers["content-type"].split(";")[0]
        assert content_type in EXPECTED_TYPES[Path(urlsplit(ref).path).suffix], ref
        assert len(response.content) > 0, ref


@pytest.mark.parametrize("page", PAGES)
def test_docs_page__tells_the_browser__to_load_nothing_from_other_hosts(
    server: RunningServer, page: str
) -> None:
    policy = httpx.get(server.url + page, timeout=10).headers["content-security-policy"]

    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"  # ReDoc's logo from cdn.redoc.ly: blocked
    assert "http" not in policy


def test_docs_assets__an_unknown_file__is_a_json_404(server: RunningServer) -> None:
    response = httpx.get(server.url + "/docs-assets/no-such-file.js", timeout=10)

    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404
