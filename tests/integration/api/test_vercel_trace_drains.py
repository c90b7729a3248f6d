"""Vercel trace drain deliveries (OTLP JSON) through a real server, on SQLite and
PostgreSQL: server spans become requests with their durations, statuses, routes and
deployments; client, internal and nested server spans are left out and counted, as are
malformed spans, without refusing the rest; a protobuf delivery is refused with 415
naming the setting, nothing kept; a request drained both as a log line and as a span
gives its duration from the trace and counts once in the 5xx share."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.server import RunningServer, running_server
from tests.support.vercel_drains import (
    as_array,
    as_json,
    log_line,
    signature,
    signed,
    span,
    trace_export,
)

from shipwise.domain.guardrails import Reading
from shipwise.server.ports import MetricDefinition, MetricWindow
from shipwise.server.ports.vercel import LOG_REQUEST, REQUEST, TRACE_SPAN, DrainQuery
from shipwise.server.services.vercel_metrics import read_vercel

SECRET = "drain-signature-secret"
NOW = datetime.now(UTC).replace(microsecond=0)
PATH = "/webhooks/vercel/default"
ROUTE = "/api/orders/[id]"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(database_url, tmp_path, vercel_drain_secret=SECRET) as running:
        yield running


def _post(server: RunningServer, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(server.url + PATH, content=body, headers=headers, timeout=30)


def _query(server: RunningServer, name: str, **more: Any) -> DrainQuery:
    with server.services.store.read() as tx:
        project = tx.get_project("default")
        assert project is not None
    return DrainQuery(
        project.id, REQUEST, name, NOW - timedelta(hours=1), NOW + timedelta(hours=1), **more
    )


def _percentile(server: RunningServer, quantile: float, **more: object) -> tuple[float | None, int]:
    with server.services.store.read() as tx:
        return tx.drain_percentile(_query(server, TRACE_SPAN, **more), quantile)


def _counts(server: RunningServer, name: str, **more: object) -> tuple[int, int]:
    with server.services.store.read() as tx:
        return tx.drain_counts(_query(server, name, **more))


def test_trace_drain__server_spans__are_requests_with_durations_statuses_and_routes(
    server: RunningServer,
) -> None:
    spans = [
        span(NOW, 120, span_id="a1"),
        span(NOW, 80.5, status=503, span_id="a2", status_key="http.status_code"),
        span(NOW, 40, status=None, route=None, span_id="a3", kind=2),  # url.path then
        span(NOW, 300, span_id="a4", kind="server"),  # as Vercel's own example writes it
        span(NOW, 30, span_id="c1", kind="SPAN_KIND_CLIENT", parent="a1"),  # its fetch
        span(NOW, 10, span_id="i1", kind=1, parent="a1"),  # internal work
        span(NOW, 110, span_id="n1", parent="a1"),  # the framework's span of request a1
    ]
    body = as_json(trace_export(spans, deployment="dpl_traced"))
    answer = _post(server, body, signed(body))

    assert answer.status_code == 202, answer.text
    assert answer.json()["stored"] == 4
    assert answer.json()["skipped_reasons"] == {
        "not a server span (a request's inner work)": 2,
        "server span inside another server span (the same request)": 1,
    }
    assert _percentile(server, 1.0, route=ROUTE, deployments=("dpl_traced",)) == (300.0, 3)
    assert _percentile(server, 0.5, route=ROUTE, environment="production") == (120.0, 3)
    assert _percentile(server, 1.0, route="/api/orders/7") == (40.0, 1)
    assert _counts(server, TRACE_SPAN) == (3, 1)  # the span without a status: in neither
    assert _counts(server, LOG_REQUEST) == (0, 0)


def test_trace_drain__list_or_object_kinds_and_keys__are_skipped_and_the_rest_kept(
    server: RunningServer,
) -> None:
    odd_key = {**span(NOW, 10, span_id="k1"), "attributes": [{"key": [1], "value": {}}]}
    object_key = {**span(NOW, 20, span_id="k2"), "attributes": [{"key": {}, "value": {}}]}
    document = trace_export(
        [
            {**span(NOW, 10, span_id="l1"), "kind": [1]},
            {**span(NOW, 10, span_id="o1"), "kind": {}},
            {**span(NOW, 10, span_id="f1"), "kind": 2.0},
            odd_key,  # an attribute Shipwise does not read, whatever its key
            object_key,
        ]
    )
    document["resourceSpans"][0]["resource"]["attributes"].append({"key": [2]})
    body = as_json(document)
    answer = _post(server, body, signed(body))

    assert answer.status_code == 202, answer.text
    assert answer.json()["stored"] == 2
    assert answer.json()["skipped_reasons"] == {"not a server span (a request's inner work)": 3}
    assert _percentile(server, 1.0) == (20.0, 2)


def test_trace_drain__malformed_spans__are_skipped_and_counted_and_the_rest_kept(
    server: RunningServer,
) -> None:
    backwards = {**span(NOW, 10, span_id="b1"), "endTimeUnixNano": "1"}
    unreadable_status = {
        **span(NOW, 10, span_id="b2"),
        "attributes": [{"key": "http.response.status_code", "value": {"intValue": "9999"}}],
    }
    document = trace_export(
        [
            span(NOW, 55, span_id="ok"),
            backwards,
            {**span(NOW, 10, span_id="b3"), "startTimeUnixNano": "soon"},
            {**span(NOW, 10, span_id="b4"), "startTimeUnixNano": "1"},  # 1970
            unreadable_status,
            {**span(NOW, 10, span_id="b5"), "attributes": {"http.route": "/x"}},
            "not a span",  # type: ignore[list-item]
        ]
    )
    document["resourceSpans"].append({"resource": {}, "scopeSpans": "nope"})
    body = as_json(document)
    answer = _post(server, body, signed(body))

    assert answer.status_code == 202, answer.text
    assert answer.json()["stored"] == 1
    assert answer.json()["skipped_reasons"] == {
        "endTimeUnixNano out of range": 1,
        "startTimeUnixNano is not a whole number of nanoseconds": 1,
        "startTimeUnixNano out of range": 1,
        "http.response.status_code is not an HTTP status": 1,
        "span attributes is not a list": 1,
        "span is not an object": 1,
        "scopeSpans is not a list": 1,
    }
    assert _percentile(server, 0.95) == (55.0, 1)


@pytest.mark.parametrize(
    "content_type", ["application/x-protobuf", "application/protobuf; charset=binary"]
)
def test_trace_drain__protobuf__is_refused_with_415_naming_the_setting_and_keeps_nothing(
    server: RunningServer, content_type: str
) -> None:
    body = b"\x0a\x1f\x0a\x1d\x0a\x0dservice.name\x12\x0c\x0a\x0avercel-fn"
    answer = _post(
        server, body, {"x-vercel-signature": signature(body), "content-type": content_type}
    )

    assert answer.status_code == 415, answer.text
    error = answer.json()["error"]
    assert error["field"] == "content-type"
    assert "delivery format to JSON" in error["message"]
    assert _counts(server, TRACE_SPAN) == (0, 0)


def test_trace_drain__protobuf_unsigned__is_refused_for_its_signature_first(
    server: RunningServer,
) -> None:
    answer = _post(server, b"\x0a\x00", {"content-type": "application/x-protobuf"})

    assert answer.status_code == 403, answer.text


def test_a_request_in_both_drains__takes_its_duration_from_the_trace_and_counts_once(
    server: RunningServer,
) -> None:
    lines = [log_line(NOW, 200 if i < 8 else 503, request_id=f"r{i}") for i in range(10)]
    logs = as_array(lines)
    traces = as_json(trace_export([span(NOW, 10.0 * (i + 1), span_id=f"s{i}") for i in range(10)]))
    for body in (logs, traces):
        assert _post(server, body, signed(body)).status_code == 202

    with server.services.store.read() as tx:
        project = tx.get_project("default")
        assert project is not None
        window = MetricWindow(
            "default", "production", "checkout", NOW - timedelta(hours=1), NOW + timedelta(hours=1)
        )

        def read(**settings: object) -> object:
            definition = MetricDefinition(project.id, "m", "vercel", settings)
            return read_vercel(tx, project.id, definition, window)

        assert read(measure="request-duration") == Reading(100.0, 10.0)
        assert read(measure="5xx-share") == Reading(2 / 10, 10.0)


def test_trace_drain__spans_without_an_environment__take_the_drain_urls(
    server: RunningServer,
) -> None:
    unnamed = as_json(trace_export([span(NOW, 250, span_id="e1")], environment=None))
    named = as_json(trace_export([span(NOW, 90, span_id="e2")], environment="preview"))

    for body in (unnamed, named):
        answer = httpx.post(
            server.url + PATH,
            params={"environment": "production"},
            content=body,
            headers=signed(body),
            timeout=30,
        )
        assert answer.status_code == 202, answer.text

    assert _percentile(server, 1.0, environment="production") == (250.0, 1)
    assert _percentile(server, 1.0, environment="preview") == (90.0, 1)  # its own kept


def test_trace_drain__a_bad_environment_in_the_url__is_422_naming_it_and_keeps_nothing(
    server: RunningServer,
) -> None:
    body = as_json(trace_export([span(NOW, 250, span_id="e1")], environment=None))
    answer = httpx.post(
        server.url + PATH,
        params={"environment": "prod uction"},
        content=body,
        headers=signed(body),
        timeout=30,
    )

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "environment"
    assert _counts(server, TRACE_SPAN) == (0, 0)
