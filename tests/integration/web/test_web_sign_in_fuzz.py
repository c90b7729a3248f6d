"""Hypothesis against the sign-in routes of a real server (SQLite): ``/sign-in`` (the
form's token and ``next``, and its query), ``/sign-in/link/{code}`` (GET and POST) with
random text, the nastiest characters percent-encoded as raw bytes (lone surrogates
included, which no valid UTF-8 holds), and random bodies. Every answer is below 500, a
refusal (4xx) where something was asked, and no session is ever made. Bounded: the same
walk every run (``derandomize``), ``EXAMPLES`` per route."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.server import RunningServer, running_server

from shipwise.server.web.session_auth import COOKIE

EXAMPLES = 60
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
NASTY = "\x00\ud800\udfff\u202e\u2028\ufeff\uffff\U0010ffff/\\?#%&=+ \t\r\n"
texts = st.one_of(
    st.text(st.sampled_from(NASTY + "a1"), max_size=6),
    st.text(st.one_of(st.characters(), st.sampled_from(NASTY)), max_size=60),
    st.sampled_from(["sw_api_", "sw_srv_x", "//evil.example", "https://evil.example", "x" * 3000]),
)


def _encoded(text: str) -> str:
    """``text`` percent-encoded byte by byte, surrogates as the bytes they would be."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(data_dir=tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture(scope="module")
def browser(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def _no_session(answer: httpx.Response, browser: httpx.Client) -> None:
    assert answer.status_code < 500, answer.text[:500]
    assert COOKIE not in answer.headers.get("set-cookie", "")
    assert COOKIE not in browser.cookies


@SETTINGS
@given(token=texts, next_path=texts)
def test_sign_in__with_any_token_and_next__is_refused_never_a_5xx(
    browser: httpx.Client, token: str, next_path: str
) -> None:
    body = f"token={_encoded(token)}&next={_encoded(next_path)}"
    answer = browser.post(
        "/sign-in",
        content=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    _no_session(answer, browser)
    assert 400 <= answer.status_code < 500


@SETTINGS
@given(body=st.binary(max_size=300), kind=st.sampled_from(["multipart/form-data", "text/plain"]))
def test_sign_in__with_any_body__is_refused_never_a_5xx(
    browser: httpx.Client, body: bytes, kind: str
) -> None:
    answer = browser.post("/sign-in", content=body, headers={"Content-Type": kind})

    _no_session(answer, browser)
    assert 400 <= answer.status_code < 500


@SETTINGS
@given(next_path=texts)
def test_sign_in_page__with_any_next__answers_the_form(
    browser: httpx.Client, next_path: str
) -> None:
    answer = browser.get(f"/sign-in?next={_encoded(next_path)}")

    _no_session(answer, browser)
    assert answer.status_code == 200


@SETTINGS
@given(code=texts, method=st.sampled_from(["GET", "POST"]))
def test_sign_in_link__with_any_code__is_refused_never_a_5xx(
    browser: httpx.Client, code: str, method: str
) -> None:
    answer = browser.request(method, f"/sign-in/link/{_encoded(code)}")

    _no_session(answer, browser)
    assert 400 <= answer.status_code < 500
