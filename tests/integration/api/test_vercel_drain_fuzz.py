"""Hypothesis against the Vercel drain route of a real server (SQLite): hostile bodies
(random bytes, random JSON, records with random fields, OTLP trace exports with random
spans) and headers (random or no signature, random content types). Every answer is a
4xx or a 202, never a 5xx; an unsigned or protobuf delivery keeps nothing; a signed one
keeps exactly what it reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

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
NOW = datetime.now(UTC).replace(microsecond=0)
NOW_MS = int(NOW.timestamp() * 1000)

# Numbers float() cannot hold (>= 10**309) and text, lists and objects where a number
# or a name is read: any field may hold any JSON value.
huge = st.integers(min_value=10**309, max_value=10**400) | st.integers(max_value=-(10**309))
scalars = st.none() | st.booleans() | st.integers() | huge | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
hostile: st.SearchStrategy[Any] = huge | json_values | st.just([1]) | st.just({})


def _with_hostile(valid: st.SearchStrategy[dict[str, Any]], keys: list[str]) -> Any:
    """Records that are mostly well formed (so they are read to the end) with one or two
    of their fields, any of them, holding any JSON value."""
    overrides = st.dictionaries(st.sampled_from(keys), hostile, max_size=2)
    return st.tuples(valid, overrides).map(lambda pair: pair[0] | pair[1])


RECORD_KEYS = ["schema", "metricType", "value", "timestamp", "eventType", "eventName"]
RECORD_KEYS += ["route", "path", "deploymentId", "vercelEnvironment", "environment"]
RECORD_KEYS += ["proxy", "requestId"]
offsets = st.integers(-1439, 1439).map(lambda minutes: timezone(timedelta(minutes=minutes)))
iso_times = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=offsets
).map(lambda moment: moment.isoformat())
valid_vitals = st.fixed_dictionaries(
    {
        "schema": st.just("vercel.speed_insights.v1"),
        "metricType": st.sampled_from(["LCP", "inp", "CLS", "nope"]),
        "value": st.floats(min_value=0, max_value=10**6) | huge,
        "timestamp": st.just(NOW.isoformat()) | iso_times,
    },
    optional={"route": st.text(max_size=600), "deploymentId": st.text(max_size=120)},
)
valid_events = st.fixed_dictionaries(
    {
        "schema": st.just("vercel.analytics.v1"),
        "eventType": st.sampled_from(["pageview", "event", "other"]),
        "timestamp": st.just(NOW_MS) | st.integers() | huge,
    },
    optional={"eventName": st.text(max_size=120), "path": st.text(max_size=20)},
)
proxies = st.fixed_dictionaries(
    {"statusCode": st.sampled_from([200, 503, -1, 99]) | hostile},
    optional={"path": st.text(max_size=20) | hostile, "timestamp": hostile},
)
valid_logs = st.fixed_dictionaries(
    {"timestamp": st.just(NOW_MS) | huge, "proxy": proxies},
    optional={"requestId": st.text(max_size=3), "environment": st.text(max_size=70)},
)
records = _with_hostile(valid_vitals | valid_events | valid_logs, RECORD_KEYS)
ATTRIBUTE_KEYS = ["http.route", "url.path", "http.target", "http.response.status_code"]
ATTRIBUTE_KEYS += ["http.status_code", "vercel.deploymentId", "deployment.environment", "x"]
# Mostly in range (2000-2100), as text or a number, so spans get read; some hostile.
in_range = st.integers(min_value=10**18, max_value=4 * 10**18)
nanos = in_range.map(str) | in_range | st.integers() | huge | st.floats() | st.text(max_size=22)
any_values = st.fixed_dictionaries(
    {}, optional={"stringValue": st.text(max_size=600) | hostile, "intValue": hostile}
)
attribute = st.fixed_dictionaries(
    {"key": st.sampled_from(ATTRIBUTE_KEYS) | hostile, "value": any_values | json_values}
)
attributes = st.lists(attribute | json_values, max_size=5)
times = st.tuples(in_range, st.integers(0, 10**11)).map(
    lambda t: {"startTimeUnixNano": str(t[0]), "endTimeUnixNano": str(t[0] + t[1])}
) | st.fixed_dictionaries({"startTimeUnixNano": nanos, "endTimeUnixNano": nanos})
span_fields = st.fixed_dictionaries(
    {"kind": st.sampled_from([2, "SPAN_KIND_SERVER", "server", 2, 1, 3, "SERVER", True, 2.0])},
    optional={
        "attributes": attributes | json_values,
        "traceId": st.sampled_from(["t1", "t2"]) | json_values,
        "spanId": st.sampled_from(["s1", "s2", "s3"]),
        "parentSpanId": st.sampled_from(["s1", "s2", ""]) | json_values,
    },
)
SPAN_KEYS = ["kind", "attributes", "traceId", "spanId", "parentSpanId"]
SPAN_KEYS += ["startTimeUnixNano", "endTimeUnixNano"]
spans = _with_hostile(st.tuples(span_fields, times).map(lambda pair: pair[0] | pair[1]), SPAN_KEYS)
scope_spans = st.fixed_dictionaries({"spans": st.lists(spans | json_values, max_size=6)})
resource_spans = st.fixed_dictionaries(
    {"scopeSpans": st.lists(scope_spans | json_values, max_size=3)},
    optional={"resource": st.fixed_dictionaries({"attributes": attributes}) | json_values},
)
trace_exports = st.fixed_dictionaries(
    {"resourceSpans": st.lists(resource_spans | json_values, max_size=3) | json_values}
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
