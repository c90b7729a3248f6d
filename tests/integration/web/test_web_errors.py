"""What the dashboard answers for what no page handles, on a real server, on SQLite and
PostgreSQL: an unknown URL under the dashboard is the HTML error page with the browser's
safety headers (and who is signed in), an API path keeps the API's JSON, and the
sign-in redirect is an empty-bodied 303 with the same headers, never the API's JSON."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.integration.web.release_pages import BOARD, PROJECT, World, read, release_page, world

from shipwise.server.web.routing import SECURITY_HEADERS


@pytest.fixture
def team(database_url: str, tmp_path: Path) -> Iterator[World]:
    with world(database_url, tmp_path) as made:
        yield made


def _assert_safety_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, dict(response.headers))


UNKNOWN_PAGES = [
    f"/projects/{PROJECT}/nope",
    f"/projects/{PROJECT}/flags/x/y",
    f"/projects/{PROJECT}/releases/rel-1/nope/deeper",
    "/projects",
    "/sign-in/nope",
]


@pytest.mark.parametrize("path", UNKNOWN_PAGES)
def test_dashboard__an_unknown_url__is_the_404_page_with_the_safety_headers_and_who_is_signed_in(
    team: World, path: str
) -> None:
    with team.person("alice") as alice:
        response = alice.get(path)

    assert response.status_code == 404
    page = read(response)  # HTML, one <main>, every field labelled
    assert "Not found" in page.text
    assert f"There is no page at {path}" in page.text
    assert "Signed in as alice" in page.text
    _assert_safety_headers(response)


def test_dashboard__an_unknown_url_for_a_stranger__is_the_404_page_too(team: World) -> None:
    with httpx.Client(base_url=team.server.url, timeout=30) as stranger:
        response = stranger.get(f"/projects/{PROJECT}/nope")

    assert response.status_code == 404
    page = read(response)
    assert "Not found" in page.text
    assert "Signed in as" not in page.text
    _assert_safety_headers(response)


def test_form_action__opened_with_get__is_a_405_page_that_names_the_method_it_takes(
    team: World,
) -> None:
    key = team.release("Dark mode")
    with team.person("alice") as alice:
        response = alice.get(f"{release_page(key)}/approve")

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    page = read(response)
    assert "does not answer GET (it takes POST)" in page.text
    _assert_safety_headers(response)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nope", "/api/client/nope", "/sdk/v1/nope", "/ofrep/v1/nope", "/nope"],
)
def test_api__an_unknown_url__keeps_the_json_404(team: World, path: str) -> None:
    response = team.admin.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["status"] == 404
    assert error["message"].startswith(f"no endpoint GET {path}")


def test_page__without_a_session__redirects_to_sign_in_with_an_empty_body_and_the_safety_headers(
    team: World,
) -> None:
    with httpx.Client(base_url=team.server.url, timeout=30) as stranger:
        response = stranger.get(BOARD)

    assert response.status_code == 303
    assert response.headers["location"] == f"/sign-in?next=%2Fprojects%2F{PROJECT}%2Fboard"
    assert response.content == b""
    _assert_safety_headers(response)
