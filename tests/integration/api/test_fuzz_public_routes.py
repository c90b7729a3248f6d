"""Hypothesis against the public routes of a real ``shipwise serve`` (SQLite, in a process
of its own, so a crash is a failed request rather than a dead test run): OFREP single and
bulk, the Unleash frontend API (query and body), the Unleash client API, Shipwise's SDK
API and the GitHub webhook, unsigned and signed. Bodies are random Unicode (lone
surrogates, NUL, bidirectional controls, separators), random bytes, deep and wide JSON;
headers are random too.

Every answer must be below 500 and arrive (a hang is a read timeout, a failure), the
server must still be running, and nothing may change that the request had no business
changing: a refused request (4xx) changes nothing at all, and an accepted one only the
table it reports into (exposures for metrics, tracked events for events; a signed
webhook delivery, GitHub's delivery log). The database is compared row by row.

Bounded: ``EXAMPLES`` per route with the same walk every run (``derandomize``), well
under a minute in all.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import string
from collections.abc import Iterator, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.public_server import WEBHOOK_SECRET, PublicServer, public_server

from shipwise.domain.github import sign

EXAMPLES = 60
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same walk every run: a failure is reproducible
    database=None,
    suppress_health_check=list(HealthCheck),
)
NOTHING: frozenset[str] = frozenset()

# -- what is sent -----------------------------------------------------------------------

# Characters that have broken parsers, hashes and databases: NUL, lone surrogates,
# bidirectional overrides and isolates, line and paragraph separators, a BOM, a
# noncharacter, and the last code point.
NASTY = "\x00\ud800\udbff\udc00\udfff\u202e\u2066\u2069\u2028\u2029\ufeff\uffff\U0010ffff"
characters = st.one_of(st.characters(), st.sampled_from(NASTY))
# Half of all text is short and mostly nasty, so those characters reach every field.
texts = st.one_of(
    st.text(st.sampled_from(NASTY + "a1"), min_size=1, max_size=4),
    st.text(characters, max_size=40),
)
keys = st.one_of(st.sampled_from(["on", "theme", "rollout-25", "beta-plan"]), texts)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(texts, inner, max_size=5)
)


def deep(levels: int, opener: str) -> str:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return opener * levels + "0" * (opener != "[") + closer * levels


deep_json = st.builds(deep, st.integers(1, 30_000), st.sampled_from(["[", '{"a":']))
wide_json = st.integers(0, 3_000).map(lambda n: json.dumps({f"k{i}": i for i in range(n)}))
context_fields = st.one_of(
    st.sampled_from(
        ["targetingKey", "userId", "sessionId", "remoteAddress", "currentTime", "plan", "country"]
    ),
    texts,
)
# Contexts: one kind in four always has the id the engine hashes into a bucket.
contexts = st.sampled_from(
    [
        st.fixed_dictionaries(
            {"targetingKey": texts},
            optional={"userId": texts, "sessionId": texts, "remoteAddress": texts, "plan": texts},
        ),
        st.dictionaries(context_fields, texts, max_size=6),
        st.dictionaries(context_fields, json_values, max_size=6),
        json_values,
    ]
).flatmap(lambda kind: kind)


def encoded(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # lone surrogates as raw (invalid) UTF-8


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()  # ASCII, with surrogates as \\ud800 escapes


# A body: JSON of the route's shape, any JSON, deep or wide JSON, random text or bytes.
def bodies(shaped: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """Half in the route's own shape (to get as far as the engine), half anything. (A
    draw of the kind first: ``one_of`` leans hard towards its simplest branches.)"""
    well_formed = shaped.map(as_json)
    kinds = [
        well_formed,
        well_formed,
        well_formed,
        well_formed,
        json_values.map(as_json),
        deep_json.map(str.encode),
        wide_json.map(str.encode),
        texts.map(encoded),
        st.binary(max_size=200),
    ]
    return st.sampled_from(kinds).flatmap(lambda kind: kind)


context_bodies = bodies(st.fixed_dictionaries({"context": contexts}))
token = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=20)
# Any byte HTTP allows in a header value (visible ASCII, bytes above 0x7f, inner blanks):
# the client library refuses to send others, and the HTTP server would refuse them first.
FIELD_BYTES = bytes([*range(0x21, 0x7F), *range(0x80, 0x100), 0x20, 0x09])
header_values = st.lists(st.sampled_from(FIELD_BYTES), max_size=60).map(
    lambda found: bytes(found).strip(b" \t")
)
random_headers = st.dictionaries(
    token.map(lambda name: f"X-{name}".encode()), header_values, max_size=8
).map(lambda found: {k: v for k, v in found.items() if v})
extra_headers = st.one_of(
    random_headers,
    st.fixed_dictionaries({b"If-None-Match": header_values, b"Content-Type": header_values}),
)

# -- the server and its state -----------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicServer]:
    with public_server(tmp_path_factory.mktemp("fuzz")) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: PublicServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=15, trust_env=False) as client:
        yield client


def fingerprint(database: Path) -> dict[str, str]:
    """Every table's rows, as a digest per table."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        query = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        tables = [name for (name,) in connection.execute(query)]
        return {
            table: hashlib.sha256(
                repr(
                    connection.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()
                ).encode()
            ).hexdigest()
            for table in tables
        }


Headers = dict[bytes, bytes]
JSON_TYPE = {"Content-Type": "application/json"}


def merged(headers: Headers, *more: Mapping[str, str]) -> Headers:
    """The random headers, with the ones the test sets put over them."""
    merged = dict(headers)
    for fields in more:
        merged |= {name.encode(): value.encode() for name, value in fields.items()}
    return merged


def judged(
    server: PublicServer,
    http: httpx.Client,
    request: httpx.Request,
    may_change: frozenset[str] = NOTHING,
) -> None:
    """Send one request and judge it: below 500, the server alive, and nothing changed
    but what an accepted request of this route may change."""
    before = fingerprint(server.database)
    try:
        response = http.send(request)
    except httpx.TransportError as error:
        alive = "still running" if server.alive() else "dead"
        raise AssertionError(f"no answer ({error!r}); the server is {alive}") from None
    assert response.status_code < 500, response.text
    assert server.alive()
    after = fingerprint(server.database)
    allowed = may_change if response.is_success else NOTHING
    changed = {table for table in after if after[table] != before.get(table)}
    assert changed <= allowed, f"{response.status_code} changed {sorted(changed)}"


def quoted(text: str) -> str:
    return quote(encoded(text), safe="")


# -- the routes -------------------------------------------------------------------------

whose_key = st.sampled_from(["server", "frontend"])


@given(key=keys, body=context_bodies, headers=extra_headers, whose=whose_key)
@SETTINGS
def test_ofrep_single__random_bodies_keys_and_headers__no_5xx_no_change(
    server: PublicServer, http: httpx.Client, key: str, body: bytes, headers: Headers, whose: str
) -> None:
    path = f"/ofrep/v1/evaluate/flags/{quoted(key)}"
    headers = merged(headers, server.headers(whose))
    judged(server, http, http.build_request("POST", path, content=body, headers=headers))


@given(body=context_bodies, headers=extra_headers, whose=whose_key)
@SETTINGS
def test_ofrep_bulk__random_bodies_and_headers__no_5xx_no_change(
    server: PublicServer, http: httpx.Client, body: bytes, headers: Headers, whose: str
) -> None:
    headers = merged(headers, server.headers(whose))
    path = "/ofrep/v1/evaluate/flags"
    judged(server, http, http.build_request("POST", path, content=body, headers=headers))


query_names = st.one_of(st.sampled_from(["userId", "properties[plan]", "remoteAddress"]), texts)


@given(
    user_id=texts,
    fields=st.lists(st.tuples(query_names, texts), max_size=12),
    headers=extra_headers,
)
@SETTINGS
def test_frontend_get__random_query_context__no_5xx_no_change(
    server: PublicServer,
    http: httpx.Client,
    user_id: str,
    fields: list[tuple[str, str]],
    headers: Headers,
) -> None:
    fields = [("userId", user_id), *fields]
    query = "&".join(f"{quoted(name)}={quoted(value)}" for name, value in fields)
    headers = merged(headers, server.headers("frontend"))
    judged(server, http, http.build_request("GET", f"/api/frontend?{query}", headers=headers))


@given(body=context_bodies, headers=extra_headers)
@SETTINGS
def test_frontend_post__random_bodies_and_headers__no_5xx_no_change(
    server: PublicServer, http: httpx.Client, body: bytes, headers: Headers
) -> None:
    headers = merged(headers, server.headers("frontend"))
    judged(server, http, http.build_request("POST", "/api/frontend", content=body, headers=headers))


filters = st.lists(st.tuples(st.sampled_from(["project", "namePrefix"]), texts), max_size=3)


@given(query=filters, headers=extra_headers)
@SETTINGS
def test_unleash_features__random_filters_and_headers__no_5xx_no_change(
    server: PublicServer, http: httpx.Client, query: list[tuple[str, str]], headers: Headers
) -> None:
    text = "&".join(f"{name}={quoted(value)}" for name, value in query)
    headers = merged(headers, server.headers("server"))
    judged(server, http, http.build_request("GET", f"/api/client/features?{text}", headers=headers))


counts = st.integers(min_value=-5, max_value=2**40)
toggle_counts = st.fixed_dictionaries(
    {"yes": counts, "no": counts},
    optional={"variants": st.dictionaries(texts, counts, max_size=3)},
)
unleash_metrics = st.fixed_dictionaries(
    {"appName": texts, "instanceId": texts},
    optional={
        "bucket": st.fixed_dictionaries(
            {"start": texts, "stop": texts},
            optional={"toggles": st.dictionaries(keys, toggle_counts, max_size=4)},
        )
    },
)
UNLEASH_POSTS = ["/api/client/register", "/api/client/metrics", "/api/frontend/client/metrics"]


@given(route=st.sampled_from(UNLEASH_POSTS), body=bodies(unleash_metrics), headers=extra_headers)
@SETTINGS
def test_unleash_register_and_metrics__random_bodies__no_5xx_and_only_exposures_change(
    server: PublicServer, http: httpx.Client, route: str, body: bytes, headers: Headers
) -> None:
    whose = "frontend" if route.startswith("/api/frontend") else "server"
    headers = merged(headers, server.headers(whose), JSON_TYPE)
    may_change = frozenset({"exposures"}) if route.endswith("/metrics") else NOTHING
    judged(
        server, http, http.build_request("POST", route, content=body, headers=headers), may_change
    )


@given(headers=extra_headers)
@SETTINGS
def test_sdk_snapshot__random_headers__no_5xx_no_change(
    server: PublicServer, http: httpx.Client, headers: Headers
) -> None:
    headers = merged(headers, server.headers("server"))
    judged(server, http, http.build_request("GET", "/sdk/v1/snapshot", headers=headers))


event_lines = st.fixed_dictionaries(
    {"flag": keys, "arm": st.sampled_from(["on", "off", "maybe"]), "event": texts, "count": counts},
    optional={"valued": counts, "sum": st.floats(), "sumSq": st.floats()},
)
events = st.fixed_dictionaries(
    {"instanceId": texts, "events": st.lists(event_lines, max_size=4)},
    optional={"appName": texts},
)


@given(body=bodies(events), headers=extra_headers)
@SETTINGS
def test_sdk_events__random_bodies__no_5xx_and_only_tracked_events_change(
    server: PublicServer, http: httpx.Client, body: bytes, headers: Headers
) -> None:
    # A refused batch records none of its lines; an accepted one only adds lines.
    headers = merged(headers, server.headers("server"), JSON_TYPE)
    request = http.build_request("POST", "/sdk/v1/events", content=body, headers=headers)
    judged(server, http, request, frozenset({"tracked_events"}))


READ_EVENTS = ["push", "status", "pull_request", "pull_request_review", "check_suite"]
github_events = st.one_of(
    st.sampled_from([*READ_EVENTS, "deployment_status", "ping"]),
    st.from_regex(r"\A[a-z_]{1,64}\Z"),
)
payload_fields = st.sampled_from(["action", "ref", "sha", "state", "pull_request", "sender"])


@given(
    body=bodies(st.dictionaries(payload_fields, json_values)),
    event=github_events,
    signed=st.booleans(),
    headers=random_headers,
)
@SETTINGS
def test_github_webhook__random_deliveries_signed_or_not__no_5xx_no_change(
    server: PublicServer,
    http: httpx.Client,
    body: bytes,
    event: str,
    signed: bool,
    headers: Headers,
) -> None:
    delivery = {"X-GitHub-Event": event, "X-GitHub-Delivery": hashlib.sha256(body).hexdigest()[:36]}
    if signed:
        delivery["X-Hub-Signature-256"] = sign(WEBHOOK_SECRET.encode(), body)
    headers = merged(headers, delivery, JSON_TYPE)
    path = "/webhooks/github/default"
    # A signed delivery that is read is kept in the delivery log, whatever it says;
    # random bodies state no fact about a release, so nothing else may change.
    request = http.build_request("POST", path, content=body, headers=headers)
    judged(server, http, request, frozenset({"github_deliveries"}))
