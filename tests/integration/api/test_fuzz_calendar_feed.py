"""Hypothesis against the public calendar feed route of a real ``shipwise serve``
(SQLite, in a process of its own): random tokens (nasty Unicode, the feed prefix with
random tails, a real token changed by one character, very long ones) are a 404 JSON
error, never a 5xx, and change nothing; the one real address still answers 200.

Bounded and derandomized like ``test_fuzz_public_routes``, whose judging it shares.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.integration.api.test_fuzz_public_routes import SETTINGS, judged, quoted, texts
from tests.support.public_server import PublicServer, public_server

FEEDS = "/api/v1/projects/default/calendar-feeds"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicServer]:
    with public_server(tmp_path_factory.mktemp("fuzz-calendar")) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: PublicServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=15, trust_env=False) as client:
        yield client


@pytest.fixture(scope="module")
def real_token(server: PublicServer, http: httpx.Client) -> str:
    made = http.post(FEEDS, json={"name": "fuzz"}, headers=server.headers("admin"))
    assert made.status_code == 201, made.text
    url: str = made.json()["url"]
    return url.rsplit("/", 1)[1].removesuffix(".ics")


tails = st.text(st.characters(codec="ascii"), max_size=80)
tokens = st.one_of(
    texts,
    tails.map(lambda tail: "sw_cal_" + tail),
    st.integers(min_value=1, max_value=20_000).map(lambda n: "a" * n),
)


@given(token=tokens)
@SETTINGS
def test_calendar_feed__random_tokens__are_404_no_5xx_no_change(
    server: PublicServer, http: httpx.Client, token: str
) -> None:
    judged(server, http, http.build_request("GET", f"/calendar/{quoted(token)}.ics"))


@given(position=st.integers(min_value=7, max_value=49), char=st.sampled_from("A_-z0"))
@SETTINGS
def test_calendar_feed__a_real_token_changed_by_one_character__is_404(
    server: PublicServer, http: httpx.Client, real_token: str, position: int, char: str
) -> None:
    index = position % len(real_token)
    changed = real_token[:index] + char + real_token[index + 1 :]
    response = http.get(f"/calendar/{quoted(changed)}.ics")
    assert response.status_code == (200 if changed == real_token else 404)
    if changed != real_token:
        assert response.json()["error"]["status"] == 404
    assert http.get(f"/calendar/{real_token}.ics").status_code == 200
