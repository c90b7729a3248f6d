"""Hypothesis against the public announcement routes of a real server (SQLite): the
frontend API's list and dismiss, the SDK API's dismissals and dismiss. Hostile queries,
ids and bodies (NUL, lone surrogates, bidirectional controls, deep and wide JSON, long
user ids) are a 4xx, never a 5xx; a refused request changes nothing, and an accepted
dismissal stores at most the one (announcement, user) it names.

Bounded: ``EXAMPLES`` per route, the same walk every run (``derandomize``)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.announcements import START, Keys, announce, seed
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
NASTY = "\x00\ud800\udfff\u202e\u2066\u2028\ufeff\uffff\U0010ffff"
texts = st.one_of(
    st.text(st.sampled_from(NASTY + "a1"), min_size=0, max_size=4),
    st.text(max_size=40),
    st.integers(200, 400).map(lambda n: "u" * n),  # around the 256-character bound
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), texts),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20,
)
ids = st.one_of(
    st.integers(-(2**40), 2**40).map(str),
    texts.filter(lambda t: not set(t) & set("/?#%") and t not in {"", ".", ".."}),
    st.just("9" * 5000),
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(lambda u: json.dumps({"userId": u}).encode(), texts),
    st.builds(lambda u: json.dumps({"context": {"userId": u}}).encode(), json_values),
    st.binary(max_size=64),
    st.integers(1, 20_000).map(lambda n: b"[" * n + b"]" * n),
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Keys, int]]:
    data: Path = tmp_path_factory.mktemp("announcement-fuzz")
    url = f"sqlite:///{data / 'shipwise.db'}"
    with running_server(database_url=url, data_dir=data, clock=ManualClock(START)) as server:
        keys = seed(server)
        with server.admin() as admin:
            made = announce(admin, starts_at=START.isoformat())["id"]
        yield server, keys, made


def _client(server: RunningServer, secret: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": secret}, timeout=30)


def _count(server: RunningServer) -> int:
    """The dismissals stored, read from the database file itself."""
    path = server.services.database.engine.url.database
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT count(*) FROM announcement_dismissals").fetchone()[0])


@SETTINGS
@given(params=st.lists(st.tuples(texts, texts), max_size=6))
def test_frontend_list__hostile_query__is_below_500_and_changes_nothing(
    world: tuple[RunningServer, Keys, int], params: list[tuple[str, str]]
) -> None:
    server, keys, _ = world
    before = _count(server)
    with _client(server, keys.frontend) as browser:
        try:
            response = browser.get("/api/frontend/announcements", params=params)
        except (UnicodeEncodeError, httpx.InvalidURL):
            return  # httpx cannot even send it
    assert response.status_code < 500, response.text
    assert response.headers.get("access-control-allow-origin") == "*"
    assert _count(server) == before


@SETTINGS
@given(announcement=ids, body=bodies, route=st.sampled_from(["frontend", "sdk"]))
def test_dismiss__hostile_id_or_body__is_below_500_and_stores_at_most_what_it_names(
    world: tuple[RunningServer, Keys, int], announcement: str, body: bytes, route: str
) -> None:
    server, keys, _ = world
    before = _count(server)
    secret = keys.frontend if route == "frontend" else keys.server
    prefix = "/api/frontend/announcements" if route == "frontend" else "/sdk/v1/announcements"
    with _client(server, secret) as client:
        try:
            response = client.post(
                f"{prefix}/{announcement}/dismiss",
                content=body,
                headers={"Content-Type": "application/json"},
            )
        except (UnicodeEncodeError, httpx.InvalidURL):
            return
    assert response.status_code < 500, response.text
    if response.is_success:
        assert _count(server) - before in {0, 1}
    else:
        assert _count(server) == before


@SETTINGS
@given(user=texts)
def test_sdk_dismissals__hostile_user_id__is_below_500(
    world: tuple[RunningServer, Keys, int], user: str
) -> None:
    server, keys, _ = world
    with _client(server, keys.server) as sdk:
        try:
            response = sdk.get("/sdk/v1/announcements/dismissals", params={"userId": user})
        except (UnicodeEncodeError, httpx.InvalidURL):
            return
    assert response.status_code < 500, response.text
