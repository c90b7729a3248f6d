"""``shipwise login-link NAME``: prints a one-time dashboard link that signs NAME in,
once; through the server (an admin's token), or on the server host (``--on-host``)."""

from __future__ import annotations

import httpx
from tests.integration.cli.cli_runner import Shipwise
from tests.support.server import RunningServer

from shipwise.server.web.session_auth import COOKIE


def _person(server: RunningServer, name: str) -> None:
    body = {"name": name, "kind": "api", "project": "default", "role": "qa"}
    with server.admin() as admin:
        assert admin.post("/api/v1/tokens", json=body).status_code == 201


def _signs_in_once_as(server: RunningServer, url: str, person: str) -> None:
    """The link's page offers to sign in as ``person``; its button does, once."""
    with httpx.Client(timeout=30) as browser:
        assert f"Sign in as {person}" in browser.get(url).text
        used = browser.post(url)
        assert used.status_code == 303
        active = server.services.web_sessions.session(browser.cookies.get(COOKIE))
        assert active is not None
        assert active.principal.person == person
        assert browser.post(url).status_code == 401  # once


def test_login_link__prints_a_url_alone_on_stdout_that_signs_the_person_in_once(
    shipwise: Shipwise, remote: tuple[str, ...], server: RunningServer
) -> None:
    _person(server, "quinn")

    result = shipwise("login-link", "quinn", "--minutes", "30", *remote)

    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith(f"{server.url}/sign-in/link/")
    assert "\n" not in url
    assert "quinn" in result.stderr
    _signs_in_once_as(server, url, "quinn")


def test_login_link__for_someone_without_a_token__exits_2_naming_them(
    shipwise: Shipwise, remote: tuple[str, ...]
) -> None:
    result = shipwise("login-link", "nobody-here", *remote)

    assert result.exit_code == 2
    assert "'nobody-here' has no active personal api token" in result.stderr


def test_login_link__from_a_token_that_is_no_admin__is_refused(
    shipwise: Shipwise, server: RunningServer
) -> None:
    _person(server, "riley")
    body = {"name": "dev-dora", "kind": "api", "project": "default", "role": "developer"}
    with server.admin() as admin:
        dora = admin.post("/api/v1/tokens", json=body).json()["secret"]

    result = shipwise("login-link", "riley", "--url", server.url, "--token", dora)

    assert result.exit_code == 2
    assert "role developer may not manage-tokens" in result.stderr


def test_login_link__on_host__writes_the_link_into_the_database_and_it_works(
    shipwise: Shipwise, server: RunningServer
) -> None:
    database_url = server.services.database.engine.url.render_as_string(hide_password=False)

    result = shipwise(
        "login-link",
        "first admin",
        "--on-host",
        "--database-url",
        database_url,
        "--url",
        server.url,
    )

    assert result.exit_code == 0, result.output
    _signs_in_once_as(server, result.stdout.strip(), "first admin")
    with server.admin() as admin:
        records = admin.get("/api/v1/audit", params={"action": "sign-in-link.create"}).json()
    assert records["records"][0]["actor"].startswith("host:")
