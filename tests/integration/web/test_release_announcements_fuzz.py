"""Hypothesis against the release page's announcement forms on a real server (SQLite, a
simulated clock), as a signed-in developer with a valid CSRF token: random text in
every field of the add form (times at the calendar's edges, with and without a zone,
durations, control characters, lone surrogates) and random ids for end and remove.
Every answer is below 500; one that is not a 303 changed nothing (no announcement, no
audit record). Bounded: the same walk every run (``derandomize``), ``EXAMPLES`` each."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.integration.web.release_pages import read, release_page
from tests.support.announcements import ANNOUNCEMENTS, FLAG, PROJECT, RELEASE, START, seed
from tests.support.clock import ManualClock
from tests.support.server import RunningServer, running_server

EXAMPLES = 60
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
NASTY = "\x00\ud800\udfff\u202e\u2028\ufeff\uffff\U0010ffff<>&\"'/\\?#%=+ \t\r\n"
EDGES = [
    "",
    "7d",
    "0s",
    "99999w",
    "1.5h",
    "2027-03-01",
    "2027-03-01 09:00",
    "2027-03-01T09:00:00+00:00",
    "0001-01-01T00:00+14:00",
    "0001-01-01",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999999",
    "2027-02-30",
    "x" * 3000,
]
texts = st.one_of(
    st.text(st.sampled_from(NASTY + "a1"), max_size=6),
    st.text(st.one_of(st.characters(), st.sampled_from(NASTY)), max_size=60),
    st.sampled_from(EDGES),
)
times = st.one_of(st.sampled_from(EDGES), texts)
FIELDS = ("title", "body", "link", "flag", "environment")


def _encoded(text: str) -> str:
    """``text`` percent-encoded byte by byte, surrogates as the bytes they would be."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir: Path = tmp_path_factory.mktemp("announcements")
    with running_server(data_dir=data_dir, clock=ManualClock(START)) as running:
        seed(running)
        yield running


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> Iterator[httpx.Client]:
    with server.admin() as client:
        yield client


@pytest.fixture(scope="module")
def alice(server: RunningServer, admin: httpx.Client) -> Iterator[tuple[httpx.Client, str]]:
    """A developer's browser, signed in, and its CSRF token."""
    body = {"name": "alice", "kind": "api", "project": PROJECT, "role": "developer"}
    secret = admin.post("/api/v1/tokens", json=body).json()["secret"]
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.post("/sign-in", data={"token": secret, "next": "/"}).status_code == 303
        csrf = read(client.get(release_page(RELEASE))).form("/sign-out").fields["csrf_token"]
        yield client, csrf


def _state(admin: httpx.Client) -> tuple[list[dict[str, Any]], int]:
    listed = admin.get(ANNOUNCEMENTS).json()["announcements"]
    records = admin.get("/api/v1/audit", params={"limit": 1}).json()["records"]
    return listed, int(records[0]["id"]) if records else 0


def _post(browser: httpx.Client, path: str, fields: dict[str, str]) -> httpx.Response:
    body = "&".join(f"{name}={_encoded(value)}" for name, value in fields.items())
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return browser.post(path, content=body.encode(), headers=headers)


@SETTINGS
@given(
    values=st.fixed_dictionaries(dict.fromkeys(FIELDS, texts)),
    starts_at=times,
    ends_at=times,
    real_flag=st.booleans(),
)
def test_add_announcement__with_any_typed_values__is_never_a_5xx_and_a_refusal_changes_nothing(
    alice: tuple[httpx.Client, str],
    admin: httpx.Client,
    values: dict[str, str],
    starts_at: str,
    ends_at: str,
    real_flag: bool,
) -> None:
    browser, csrf = alice
    fields = {**values, "starts_at": starts_at, "ends_at": ends_at, "csrf_token": csrf}
    if real_flag:  # past the flag check, so the later fields are judged too
        fields |= {"flag": FLAG, "environment": "staging"}
    before = _state(admin)

    answer = _post(browser, f"{release_page(RELEASE)}/announcements", fields)

    assert answer.status_code < 500, answer.text[-2000:]
    if answer.status_code != 303:
        assert 400 <= answer.status_code < 500
        assert _state(admin) == before


@SETTINGS
@given(
    announcement=st.one_of(texts, st.integers().map(str)), action=st.sampled_from(["end", "remove"])
)
def test_end_or_remove__with_any_id__is_never_a_5xx_and_a_refusal_changes_nothing(
    alice: tuple[httpx.Client, str], admin: httpx.Client, announcement: str, action: str
) -> None:
    browser, csrf = alice
    before = _state(admin)
    path = f"{release_page(RELEASE)}/announcements/{_encoded(announcement) or 'x'}/{action}"

    answer = _post(browser, path, {"csrf_token": csrf})

    assert answer.status_code < 500, answer.text[-2000:]
    if answer.status_code != 303:
        assert _state(admin) == before


def test_add_announcement__every_pair_of_edge_times__is_never_a_5xx_and_a_refusal_changes_nothing(
    alice: tuple[httpx.Client, str], admin: httpx.Client
) -> None:
    """Every start and end of ``EDGES`` with the other fields valid, so each pair reaches
    the times' checks and the store (year 1 at +14:00 is year 0 in UTC)."""
    browser, csrf = alice
    valid = {"title": "T", "body": "b", "flag": FLAG, "environment": "staging", "csrf_token": csrf}
    for starts_at, ends_at in product(EDGES, EDGES):
        before = _state(admin)
        fields = {**valid, "starts_at": starts_at, "ends_at": ends_at}

        answer = _post(browser, f"{release_page(RELEASE)}/announcements", fields)

        assert answer.status_code < 500, (starts_at, ends_at, answer.text[-2000:])
        if answer.status_code == 303:  # stored: remove it, to keep room for the next
            [made] = [a for a in _state(admin)[0] if a not in before[0]]
            assert admin.delete(f"{ANNOUNCEMENTS}/{made['id']}").status_code == 200
        else:
            assert _state(admin) == before, (starts_at, ends_at)
