"""Hypothesis against the Vercel drain route of a real server (SQLite): hostile bodies
(random bytes, random JSON, records with random fields, OTLP trace exports with random
spans) and headers (random or no signature, random content types). Every answer is a
4xx or a 202, never a 5xx; an unsigned or protobuf delivery keeps nothing; a signed one
keeps exactly what it reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.server import RunningServer, running_server
from tests.support.vercel_drains import DRAIN_SECRET, signed

from shipwise.server.ports.vercel import DrainQuery
from shipwise.server.services.vercel_drain_format import VITALS

FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KINDS = [("vital", v) for v in VITALS] + [("request", "request"), ("event", "pageview")]
KINDS += [("request", "span")]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
records = st.fixed_dictionaries(
    {},
    optional={
        "schema": st.sampled_from(["vercel.speed_insights.v1", "vercel.analytics.v1", "x"]),
        "metricType": st.sampled_from(["LCP", "inp", "CLS", "nope"]) | st.integers(),
        "value": st.floats() | st.integers() | st.text(max_size=5),
        "timestamp": st.integers() | st.text(max_size=30) | st.floats(),
        "eventType": st.sampled_from(["pageview", "event", "other"]),
        "eventName": st.text(max_size=120),
        "route": st.text(max_size=600),
        "deploymentId": st.text(max_size=120) | st.integers(),
        "proxy": st.dictionaries(st.sampled_from(["statusCode", "path"]), json_values),
        "requestId": st.text(max_size=3),
    },
)
ATTRIBUTE_KEYS = ["http.route", "url.path", "http.target", "http.response.status_code"]
ATTRIBUTE_KEYS += ["http.status_code", "vercel.deploymentId", "deployment.environment", "x"]
# Mostly in range (2000-2100), as text or a number, so spans get read; some hostile.
in_range = st.integers(min_value=10**18, max_value=4 * 10**18)
nanos = in_range.map(str) | in_range | st.integers() | st.floats() | st.text(max_size=22)
any_values = st.fixed_dictionaries(
    {}, optional={"stringValue": st.text(max_size=600) | st.integers(), "intValue": json_values}
)
attribute = st.fixed_dictionaries(
    {"key": st.sampled_from(ATTRIBUTE_KEYS), "value": any_values | json_values}
)
attributes = st.lists(attribute | json_values, max_size=5)
times = st.tuples(in_range, st.integers(0, 10**11)).map(
    lambda t: {"startTimeUnixNano": str(t[0]), "endTimeUnixNano": str(t[0] + t[1])}
) | st.fixed_dictionaries({"startTimeUnixNano": nanos, "endTimeUnixNano": nanos})
span_fields = st.fixed_dictionaries(
    {"kind": st.sampled_from([2, "SPAN_KIND_SERVER", "server", 2, 1, 3, "SERVER", True])},
    optional={
        "attributes": attributes | json_values,
        "traceId": st.sampled_from(["t1", "t2"]) | json_values,
        "spanId": st.sampled_from(["s1", "s2", "s3"]),
        "parentSpanId": st.sampled_from(["s1", "s2", ""]) | json_values,
    },
)
spans = st.tuples(span_fields, times).map(lambda pair: pair[0] | pair[1])
scope_spans = st.fixed_dictionaries({"spans": st.lists(spans | json_values, max_size=6)})
resource_spans = st.fixed_dictionaries(
    {"scopeSpans": st.lists(scope_spans | json_values, max_size=3)},
    optional={"resource": st.fixed_dictionaries({"attributes": attributes}) | json_values},
)
trace_exports = st.fixed_dictionaries(
    {"resourceSpans": st.lists(resource_spans, max_size=3) | json_values}
)
bodies = (
    st.binary(max_size=400)
    | trace_exports.map(lambda v: json.dumps(v).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.lists(records, max_size=8).map(lambda rs: json.dumps(rs).encode())
    | st.lists(records, max_size=8).map(lambda rs: "\n".join(map(json.dumps, rs)).encode())
)
# Header values httpx will send (visible ASCII): the server sees any of them.
signatures = st.none() | st.from_regex(r"[!-~]{1,60}", fullmatch=True) | st.just("signed")
content_types = st.none() | st.sampled_from(
    ["application/json", "application/x-protobuf", "application/x-ndjson", "text/plain; x=y"]
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    path: Path = tmp_path_factory.mktemp("fuzz")
    with running_server(
        f"sqlite:///{path / 'shipwise.db'}", path, vercel_drain_secret=DRAIN_SECRET
    ) as s:
        yield s


def _kept(server: RunningServer) -> int:
    with server.services.store.read() as tx:
        project = tx.get_project("default")
        assert project is not None
        span = datetime(1999, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=40000)
        return sum(tx.drain_counts(DrainQuery(project.id, k, n, *span))[0] for k, n in KINDS)


@FUZZ
@given(body=bodies, signature=signatures, content_type=content_types)
def test_drain_route__hostile_input__is_a_4xx_or_202_and_keeps_only_what_it_reports(
    server: RunningServer, body: bytes, signature: str | None, content_type: str | None
) -> None:
    headers = signed(body) if signature == "signed" else {}
    if signature not in (None, "signed"):
        headers = {"x-vercel-signature": signature}
    headers.pop("content-type", None)
    if content_type is not None:
        headers["content-type"] = content_type
    before = _kept(server)

    answer = httpx.post(
        server.url + "/webhooks/vercel/default", content=body, headers=headers, timeout=30
    )

    assert answer.status_code < 500, answer.text
    if answer.status_code != 202:
        assert 400 <= answer.status_code < 500
        assert _kept(server) == before
    else:
        assert signature == "signed"
        assert content_type != "application/x-protobuf"
        assert _kept(server) - before <= answer.json()["stored"]
