"""Signing in to the dashboard, on a real server over HTTP, on SQLite and PostgreSQL:
a personal token or a one-time link makes a session cookie; a POST needs the session's
CSRF token; sign-out, an expired link, a revoked token end what they should; the admin
API never takes the cookie."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.clock import ManualClock
from tests.support.server import RunningServer, running_server

from shipwise.server.web.session_auth import COOKIE

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(database_url, tmp_path / "data") as running:
        yield running


def _ok(response: httpx.Response) -> Any:
    assert response.is_success, f"{response.request.method} {response.url}: {response.text}"
    return response.json()


def _person(server: RunningServer, name: str = "ana", role: str = "developer") -> str:
    """A personal api token for ``name`` in the default project; its secret."""
    with server.admin() as admin:
        body = {"name": name, "kind": "api", "project": "default", "role": role}
        return str(_ok(admin.post("/api/v1/tokens", json=body))["secret"])


def _browser(server: RunningServer) -> httpx.Client:
    """A client that keeps cookies and does not follow redirects (each is checked)."""
    return httpx.Client(base_url=server.url, timeout=30)


def _sign_in(browser: httpx.Client, token: str, next_path: str | None = None) -> httpx.Response:
    form = {"token": token} | ({"next": next_path} if next_path is not None else {})
    return browser.post("/sign-in", data=form)


def _link(server: RunningServer, name: str = "ana", minutes: int | None = None) -> str:
    body: dict[str, Any] = {"name": name} | ({"minutes": minutes} if minutes else {})
    with server.admin() as admin:
        return str(_ok(admin.post("/api/v1/sign-in-links", json=body))["path"])


def _csrf(server: RunningServer, browser: httpx.Client) -> str:
    active = server.services.web_sessions.session(browser.cookies.get(COOKIE))
    assert active is not None, "the browser has no live session"
    return active.csrf


def _set_cookie(response: httpx.Response) -> str:
    headers = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    assert len(headers) == 1, headers
    return headers[0]


class _Fields(HTMLParser):
    """The page's form fields (id → attributes) and the elements' ids with their text."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.texts: dict[str, str] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name"):
            self.inputs[str(found["name"])] = found
        if found.get("id"):
            self._open.append(str(found["id"]))
            self.texts.setdefault(str(found["id"]), "")

    def handle_data(self, data: str) -> None:
        for name in self._open:
            self.texts[name] += data

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag in {"p", "span", "div"}:
            self._open.pop()


def _fields(html: str) -> _Fields:
    parser = _Fields()
    parser.feed(html)
    return parser


def test_sign_in__with_a_personal_token__sets_an_httponly_strict_session_cookie(
    server: RunningServer,
) -> None:
    token = _person(server)
    with _browser(server) as browser:
        answer = _sign_in(browser, token, "/projects/default/flags?tag=checkout")

        cookie = _set_cookie(answer).lower()
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/projects/default/flags?tag=checkout&done=")
        assert cookie.startswith(f"{COOKIE}=")
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert "path=/" in cookie
        assert "secure" not in cookie  # plain http on the loopback: a Secure cookie would be lost
        active = server.services.web_sessions.session(browser.cookies.get(COOKIE))
        assert active is not None
        assert active.principal.person == "ana"
        assert token not in cookie  # the cookie is the session's own id, not the token


def test_sign_in_page__shows_a_labelled_token_field(server: RunningServer) -> None:
    with _browser(server) as browser:
        page = browser.get("/sign-in", params={"next": "/projects/default/board"})

    fields = _fields(page.text)
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert fields.inputs["token"]["type"] == "password"
    assert '<label for="token">' in page.text
    assert fields.inputs["next"]["value"] == "/projects/default/board"


@pytest.mark.parametrize(
    ("token", "status", "words"),
    [
        ("sw_api_not-a-real-token", 401, "unknown token"),
        ("", 422, "enter your personal api token"),
        ("x" * 5000, 401, "unknown token"),
    ],
    ids=["unknown", "empty", "overlong"],
)
def test_sign_in__with_a_bad_token__shows_the_form_again_with_the_error_beside_the_field(
    server: RunningServer, token: str, status: int, words: str
) -> None:
    with _browser(server) as browser:
        answer = _sign_in(browser, token)

    fields = _fields(answer.text)
    assert answer.status_code == status
    assert COOKIE not in answer.headers.get("set-cookie", "")
    assert fields.inputs["token"]["aria-invalid"] == "true"
    assert fields.inputs["token"]["aria-describedby"] == "error-token"
    assert words in fields.texts["error-token"].lower()


def test_sign_in__with_an_sdk_key__is_refused_beside_the_field(server: RunningServer) -> None:
    with server.admin() as admin:
        body = {"name": "web", "kind": "server", "project": "default", "environment": "dev"}
        key = _ok(admin.post("/api/v1/tokens", json=body))["secret"]
    with _browser(server) as browser:
        answer = _sign_in(browser, key)

    assert answer.status_code == 403
    assert "cannot sign in" in _fields(answer.text).texts["error-token"]
    assert COOKIE not in browser.cookies


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "/\t/evil.example",
        "evil.example",
        "javascript:alert(1)",
    ],
    ids=["absolute", "scheme-relative", "backslash", "tab", "relative", "javascript"],
)
def test_sign_in__with_a_next_to_another_site__redirects_home_instead(
    server: RunningServer, next_path: str
) -> None:
    token = _person(server)
    with _browser(server) as browser:
        answer = _sign_in(browser, token, next_path)

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/?done=")


def test_sign_in__posted_from_another_site__is_refused_and_makes_no_session(
    server: RunningServer,
) -> None:
    """Login CSRF: another site's page signing this browser in as its own person."""
    token = _person(server)
    with _browser(server) as browser:
        answer = browser.post(
            "/sign-in", data={"token": token}, headers={"Origin": "https://evil.example"}
        )

    assert answer.status_code == 403
    assert COOKIE not in browser.cookies


def test_page__without_a_session__redirects_to_sign_in_with_next(server: RunningServer) -> None:
    with _browser(server) as browser:
        answer = browser.get("/projects/default/flags", params={"tag": "a b"})

    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Fprojects%2Fdefault%2Fflags%3Ftag%3Da%2Bb"


def test_sign_in_link__shows_whom_it_signs_in_as__works_once__and_a_second_use_is_refused(
    server: RunningServer,
) -> None:
    _person(server, "ana")
    path = _link(server, "ana")
    with _browser(server) as first, _browser(server) as second:
        shown = first.get(path)
        shown_again = second.get(path)  # a link scanner's GET burns nothing
        used = first.post(path)
        reused = second.post(path)
        shown_after = second.get(path)

        assert shown.status_code == shown_again.status_code == 200
        assert "Sign in as ana" in shown.text
        assert used.status_code == 303
        assert "httponly" in _set_cookie(used).lower()
        active = server.services.web_sessions.session(first.cookies.get(COOKIE))
        assert active is not None
        assert active.principal.person == "ana"
        assert reused.status_code == 401
        assert "used already" in reused.text
        assert COOKIE not in second.cookies
        assert shown_after.status_code == 401
        assert "Sign in as" not in shown_after.text


def test_sign_in_link__that_expired__is_refused(database_url: str, tmp_path: Path) -> None:
    clock = ManualClock(START)
    with running_server(database_url, tmp_path / "data", clock=clock) as server:
        _person(server, "ana")
        path = _link(server, "ana", minutes=5)
        clock.advance(minutes=5)
        with _browser(server) as browser:
            shown = browser.get(path)
            used = browser.post(path)

    assert shown.status_code == used.status_code == 401
    assert "expired" in used.text
    assert COOKIE not in browser.cookies


def test_sign_in_link__with_an_unknown_code__is_refused(server: RunningServer) -> None:
    with _browser(server) as browser:
        answer = browser.post("/sign-in/link/not-a-code")

    assert answer.status_code == 401
    assert "not one Shipwise made" in answer.text


def test_sign_out__without_or_with_a_wrong_csrf_token__is_403_and_the_session_lives(
    server: RunningServer,
) -> None:
    token = _person(server)
    with _browser(server) as browser:
        _sign_in(browser, token)
        missing = browser.post("/sign-out")
        wrong = browser.post("/sign-out", data={"csrf_token": "x" * 43})
        wrong_header = browser.post("/sign-out", headers={"X-CSRF-Token": "nope"})

        assert missing.status_code == wrong.status_code == wrong_header.status_code == 403
        assert "CSRF" in missing.text
        assert server.services.web_sessions.session(browser.cookies.get(COOKIE)) is not None


def test_sign_out__with_the_csrf_token__ends_the_session_for_good(server: RunningServer) -> None:
    token = _person(server)
    with _browser(server) as browser:
        _sign_in(browser, token)
        cookie = browser.cookies.get(COOKIE)
        answer = browser.post("/sign-out", data={"csrf_token": _csrf(server, browser)})

        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/sign-in?done=")
        assert re.search(rf"{COOKIE}=\"?\"?;", _set_cookie(answer))  # the cookie is dropped
    assert server.services.web_sessions.session(cookie) is None
    with _browser(server) as replay:  # the old cookie, sent again by hand
        replay.cookies.set(COOKIE, str(cookie))
        again = replay.get("/projects/default/flags")
    assert again.status_code == 303
    with server.admin() as admin:
        actions = [r["action"] for r in _ok(admin.get("/api/v1/audit"))["records"]]
    assert actions[:2] == ["session.sign-out", "session.sign-in"]


def test_session__of_a_token_revoked_since__stops_working(server: RunningServer) -> None:
    token = _person(server)
    with _browser(server) as browser:
        _sign_in(browser, token)
        cookie = browser.cookies.get(COOKIE)
        assert server.services.web_sessions.session(cookie) is not None
        with server.admin() as admin:
            mine = [t for t in _ok(admin.get("/api/v1/tokens"))["tokens"] if t["name"] == "ana"]
            _ok(admin.delete(f"/api/v1/tokens/{mine[0]['id']}"))

        answer = browser.get("/projects/default/flags")
        post = browser.post("/sign-out", data={"csrf_token": "anything"})

    assert server.services.web_sessions.session(cookie) is None
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/sign-in?next=")
    assert post.status_code == 401


def test_admin_api__with_only_the_session_cookie__is_401(server: RunningServer) -> None:
    token = _person(server, role="admin")
    with _browser(server) as browser:
        _sign_in(browser, token)
        answer = browser.get("/api/v1/projects")
        write = browser.post(
            "/api/v1/projects/default/flags",
            json={"key": "sneaky"},
            headers={"X-CSRF-Token": _csrf(server, browser)},
        )

    assert answer.status_code == write.status_code == 401
    assert answer.json()["error"]["status"] == 401
    with server.admin() as admin:
        assert admin.get("/api/v1/projects/default/flags/sneaky").status_code == 404


def test_sign_in_link__used_by_two_browsers_at_once__signs_in_exactly_one(
    server: RunningServer,
) -> None:
    _person(server, "ana")
    path = _link(server, "ana")
    start = threading.Barrier(4)

    def use(_: int) -> int:
        with _browser(server) as browser:
            start.wait(timeout=30)
            return browser.post(path).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(use, range(4)))

    assert statuses == [303, 401, 401, 401]
    with server.admin() as admin:
        used = _ok(admin.get("/api/v1/audit", params={"action": "sign-in-link.use"}))["records"]
    assert len(used) == 1
