"""``JsonUrlSource`` against a real local HTTP server: paths that find numbers, paths that
lead nowhere, values that are not numbers, errors, redirects and slow answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.support.local_http import (
    LocalServer,
    Reply,
    Request,
    closed_port_url,
    local_http_server,
)

from shipwise.domain.guardrails import Reading
from shipwise.server.metrics.json_url import JsonUrlSource
from shipwise.server.ports import MetricDefinition, MetricUnavailable, MetricWindow

DOCUMENT = {
    "data": {"checkout": {"error_rate": 0.021, "requests": 1200, "status": "ok", "p50": None}},
    "items": [{"value": 3}, {"value": "4.5"}],
    "stats": {"p99.9": 812, "healthy": True, "negative": -4},
}
SLOW_SECONDS = 5.0
TIMEOUT = 0.3


def _handle(request: Request) -> Reply:
    replies = {
        "/status": Reply(200, DOCUMENT),
        "/html": Reply(200, raw=b"<html><body>Welcome</body></html>", content_type="text/html"),
        "/broken-json": Reply(500, {"error": "database down"}),
        "/broken-html": Reply(502, raw=b"<h1>Bad Gateway</h1>", content_type="text/html"),
        "/moved": Reply(301, raw=b"", headers={"Location": "https://status.example.com/v2"}),
    }
    if request.path == "/slow":
        request.closing.wait(SLOW_SECONDS)
        return Reply(200, DOCUMENT)
    if request.path.startswith("/flags/"):
        return Reply(200, {"rate": 0.5})
    return replies.get(request.path, Reply(404, {"error": "no such page"}))


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_http_server(_handle) as running:
        yield running


def _window(flag: str = "new-checkout") -> MetricWindow:
    end = datetime.now(UTC)
    return MetricWindow("shop", "production", flag, end - timedelta(minutes=5), end)


def _read(url: str, window: MetricWindow | None = None, **settings: Any) -> Reading:
    definition = MetricDefinition(1, "checkout-errors", "json", {"url": url, **settings})
    return JsonUrlSource(timeout=TIMEOUT).read(definition, window or _window())


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("data.checkout.error_rate", 0.021),
        ("items[0].value", 3.0),
        ("items[-1].value", 4.5),  # a number written as text counts
        ('stats["p99.9"]', 812.0),
        ("stats.negative", -4.0),
    ],
    ids=["fields", "index", "last-index-and-numeric-text", "quoted-name", "negative"],
)
def test_read__path_to_a_number__is_the_reading(
    server: LocalServer, path: str, expected: float
) -> None:
    assert _read(f"{server.url}/status", path=path) == Reading(expected)


def test_read__sample_path__is_the_readings_sample(server: LocalServer) -> None:
    reading = _read(
        f"{server.url}/status",
        path="data.checkout.error_rate",
        sample_path="data.checkout.requests",
    )

    assert reading == Reading(0.021, 1200.0)


def test_read__null__is_no_data(server: LocalServer) -> None:
    assert _read(f"{server.url}/status", path="data.checkout.p50") == Reading(None)


def test_read__placeholders__filled_encoded_in_the_url_and_as_they_are_in_headers(
    server: LocalServer,
) -> None:
    # When the flag's name needs escaping in a URL
    reading = _read(
        server.url + "/flags/{flag}?env={environment}",
        _window(flag="checkout v2/beta"),
        path="rate",
        headers={"X-Project": "{project}", "Authorization": "Bearer abc"},
    )

    # Then the server got it percent-encoded in the path and the query
    assert reading == Reading(0.5)
    (request,) = server.requests
    assert request.path == "/flags/checkout%20v2%2Fbeta"
    assert request.query == {"env": ["production"]}
    assert request.headers["x-project"] == "shop"
    assert request.headers["authorization"] == "Bearer abc"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "data.checkout.latency",
            "path data.checkout.latency: no field 'latency' in the object at data.checkout "
            "(its fields: error_rate, requests, status, p50)",
        ),
        ("items[5].value", "path items[5]: the list at items has 2 elements"),
        (
            "data.checkout[0]",
            "path data.checkout[0]: expected a list at data.checkout, found an object "
            "(fields: error_rate, requests, status, p50)",
        ),
        (
            "items.value",
            "path items.value: expected an object at items, found a list of 2",
        ),
        ("metrics.rate", "path metrics: no field 'metrics' in the object at the top"),
    ],
    ids=["missing-field", "index-out-of-range", "index-into-object", "field-of-list", "top"],
)
def test_read__path_leading_nowhere__names_the_step_that_failed(
    server: LocalServer, path: str, message: str
) -> None:
    with pytest.raises(MetricUnavailable) as raised:
        _read(f"{server.url}/status", path=path)

    assert str(raised.value).startswith(f"{server.url}/status: {message}")


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("data.checkout.status", "the text 'ok'"),
        ("stats.healthy", "true"),
        ("data.checkout", "an object (fields: error_rate, requests, status, p50)"),
        ("items", "a list of 2"),
    ],
    ids=["text", "boolean", "object", "list"],
)
def test_read__value_not_a_number__names_the_path_and_what_was_found(
    server: LocalServer, path: str, found: str
) -> None:
    with pytest.raises(MetricUnavailable) as raised:
        _read(f"{server.url}/status", path=path)

    assert str(raised.value) == f"{server.url}/status: path {path} is {found}, not a number"


def test_read__negative_sample__is_unavailable(server: LocalServer) -> None:
    with pytest.raises(MetricUnavailable, match=r"sample_path stats\.negative is -4; a sample"):
        _read(f"{server.url}/status", path="items[0].value", sample_path="stats.negative")


def test_read__server_error_with_json__shows_status_and_body(server: LocalServer) -> None:
    with pytest.raises(MetricUnavailable) as raised:
        _read(f"{server.url}/broken-json", path="value")

    assert str(raised.value) == (
        f"{server.url}/broken-json answered 500 Internal Server Error: "
        """'{"error": "database down"}', expected 200 with JSON"""
    )


def test_read__server_error_with_html__says_it_is_not_json(server: LocalServer) -> None:
    with pytest.raises(MetricUnavailable) as raised:
        _read(f"{server.url}/broken-html", path="value")

    assert str(raised.value).startswith(
        f"{server.url}/broken-html answered 502 Bad Gateway with text/html, not JSON"
    )


def test_read__html_page__says_it_is_not_json(server: LocalServer) -> None:
    with pytest.raises(MetricUnavailable) as raised:
        _read(f"{server.url}/html", path="value")

    assert str(raised.value) == (
        f"{server.url}/html answered 200 OK with text/html, not JSON "
        "(expected a JSON document): '<html><body>Welcome</body></html>'"
    )


def test_read__redirect__says_which_url_to_write(server: LocalServer) -> None:
    with pytest.raises(MetricUnavailable) as raised:
        _read(f"{server.url}/moved", path="value")

    assert str(raised.value) == (
        f"{server.url}/moved answered 301 Moved Permanently, a redirect to "
        "https://status.example.com/v2: write that URL instead"
    )


def test_read__slow_answer__times_out(server: LocalServer) -> None:
    with pytest.raises(MetricUnavailable) as raised:
        _read(f"{server.url}/slow", path="value")

    assert str(raised.value) == (
        f"{server.url}/slow did not answer within {TIMEOUT:g} s (expected a JSON document)"
    )


def test_read__nothing_listening__cannot_connect() -> None:
    url = closed_port_url()

    with pytest.raises(MetricUnavailable, match=f"^cannot connect to {url}/status: "):
        _read(f"{url}/status", path="value")


def test_read__credentials_and_query_string__never_in_messages(server: LocalServer) -> None:
    url = server.url.replace("http://", "http://user:hunter2@") + "/broken-json?api_key=s3cret"

    with pytest.raises(MetricUnavailable) as raised:
        _read(url, path="value")

    assert "hunter2" not in str(raised.value)
    assert "s3cret" not in str(raised.value)
    assert str(raised.value).startswith(f"{server.url}/broken-json answered 500")
