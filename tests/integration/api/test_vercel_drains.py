"""Vercel drain deliveries through a real server, on SQLite and PostgreSQL: each kind
(Speed Insights, Web Analytics, log drains) as a JSON array and as NDJSON, signed as
Vercel signs them; a wrong or missing signature, a server without a secret, an
oversized or malformed body and an unknown project are refused with nothing kept; hostile
records in a signed body are skipped and counted, never a 5xx; NDJSON past the record cap
is counted unread; the verification header on every answer; records older than the
retention pruned, a backlog over several sweeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.server import RunningServer, running_server
from tests.support.vercel_drains import (
    analytics,
    as_array,
    as_ndjson,
    log_line,
    signed,
    vital,
)

from shipwise.server.api.limits import DEFAULT_LIMITS
from shipwise.server.ports.vercel import EVENT, REQUEST, VITAL, DrainQuery
from shipwise.server.services.vercel_drain_format import BEYOND, MAX_RECORDS
from shipwise.server.services.vercel_drains import VercelDrains, VercelDrainSettings

SECRET = "drain-signature-secret"
VERIFY = "vercel-verify-token"
NOW = datetime.now(UTC).replace(microsecond=0)
PATH = "/webhooks/vercel/default"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(
        database_url, tmp_path, vercel_drain_secret=SECRET, vercel_verify=VERIFY
    ) as running:
        yield running


def _post(server: RunningServer, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(server.url + PATH, content=body, headers=headers, timeout=30)


def _count(server: RunningServer, kind: str, name: str, **more: Any) -> tuple[int, int]:
    with server.services.store.read() as tx:
        project = tx.get_project("default")
        assert project is not None
        since, until = NOW - timedelta(days=400), NOW + timedelta(days=1)
        return tx.drain_counts(DrainQuery(project.id, kind, name, since, until, **more))


def _nothing_kept(server: RunningServer) -> bool:
    return all(
        _count(server, kind, name) == (0, 0)
        for kind, name in [(VITAL, "LCP"), (VITAL, "INP"), (REQUEST, "request"), (EVENT, "Signup")]
    )


VITALS = [vital("LCP", 1800, NOW), vital("lcp", 2600, NOW), vital("INP", 120, NOW)]


@pytest.mark.parametrize("encode", [as_array, as_ndjson], ids=["array", "ndjson"])
def test_speed_insights__signed__are_kept_as_web_vitals(
    server: RunningServer, encode: object
) -> None:
    body = encode(VITALS)  # type: ignore[operator]
    answer = _post(server, body, signed(body))

    assert answer.status_code == 202, answer.text
    assert answer.json() == {"project": "default", "stored": 3, "skipped": 0, "skipped_reasons": {}}
    assert answer.headers["x-vercel-verify"] == VERIFY
    with server.services.store.read() as tx:
        project = tx.get_project("default")
        assert project is not None
        lcp = DrainQuery(
            project.id,
            VITAL,
            "LCP",
            NOW - timedelta(hours=1),
            NOW + timedelta(hours=1),
            route="/blog/[slug]",
            environment="production",
            deployments=("dpl_new",),
        )
        assert tx.drain_percentile(lcp, 0.75) == (2600.0, 2)


@pytest.mark.parametrize("encode", [as_array, as_ndjson], ids=["array", "ndjson"])
def test_log_drain__requests__are_counted_once_each_with_their_5xx(
    server: RunningServer, encode: object
) -> None:
    lines = [
        log_line(NOW, 200, request_id="a"),
        log_line(NOW, 503, request_id="b"),
        log_line(NOW, 503, request_id="b"),  # a second line of the same request
        log_line(NOW, 500, request_id="c"),
        {**log_line(NOW, 200, request_id="d"), "proxy": None, "source": "build"},
    ]
    body = encode(lines)  # type: ignore[operator]
    answer = _post(server, body, signed(body))

    assert answer.status_code == 202, answer.text
    assert answer.json()["stored"] == 3
    assert answer.json()["skipped_reasons"] == {
        "another line of a request already counted": 1,
        "log line without a request (no proxy)": 1,
    }
    assert _count(server, REQUEST, "request", route="/api/orders") == (3, 2)


@pytest.mark.parametrize("encode", [as_array, as_ndjson], ids=["array", "ndjson"])
def test_web_analytics__custom_events_and_pageviews__are_counted_by_name(
    server: RunningServer, encode: object
) -> None:
    events = [analytics(NOW, "Signup"), analytics(NOW, "Signup"), analytics(NOW)]
    body = encode([*events, {"schema": "vercel.analytics.v1", "eventType": "click"}])  # type: ignore[operator]
    answer = _post(server, body, signed(body))

    assert answer.status_code == 202, answer.text
    assert (answer.json()["stored"], answer.json()["skipped"]) == (3, 1)
    assert _count(server, EVENT, "Signup") == (2, 0)
    assert _count(server, EVENT, "pageview") == (1, 0)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-vercel-signature": "0" * 40},
        signed(b"another body"),
        signed(as_array(VITALS), secret="not-the-secret"),
    ],
    ids=["missing", "zeros", "another-body", "another-secret"],
)
def test_delivery__without_its_signature__is_403_and_keeps_nothing(
    server: RunningServer, headers: dict[str, str]
) -> None:
    answer = _post(server, as_array(VITALS), headers)

    assert answer.status_code == 403
    assert answer.json()["error"]["field"] == "x-vercel-signature"
    assert answer.headers["x-vercel-verify"] == VERIFY  # the handshake answers anyway
    assert _nothing_kept(server)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_verification__a_get_or_head__answers_the_token_and_keeps_nothing(
    server: RunningServer, method: str
) -> None:
    answer = httpx.request(method, server.url + PATH, timeout=30)

    assert answer.status_code == 200, answer.text
    assert answer.headers["x-vercel-verify"] == VERIFY
    assert _nothing_kept(server)


def test_verification__without_a_token_set__is_404_naming_the_variable(
    database_url: str, tmp_path: Path
) -> None:
    with running_server(database_url, tmp_path, vercel_drain_secret=SECRET) as bare:
        answer = httpx.get(bare.url + PATH, timeout=30)

    assert answer.status_code == 404
    assert "x-vercel-verify" not in answer.headers
    assert "SHIPWISE_VERCEL_VERIFY" in answer.json()["error"]["message"]


def test_delivery__to_a_server_without_a_secret__is_503_naming_the_variable(
    database_url: str, tmp_path: Path
) -> None:
    with running_server(database_url, tmp_path) as server:
        body = as_array(VITALS)
        answer = _post(server, body, signed(body))

        assert answer.status_code == 503
        assert "SHIPWISE_VERCEL_DRAIN_SECRET" in answer.json()["error"]["message"]
        assert "x-vercel-verify" not in answer.headers
        assert _nothing_kept(server)


def test_delivery__over_the_webhook_size_limit__is_413_unread(server: RunningServer) -> None:
    line = as_ndjson([vital("LCP", 1800, NOW)])
    body = line * (DEFAULT_LIMITS.webhook // len(line) + 1)
    answer = _post(server, body, signed(body))

    assert answer.status_code == 413
    assert _nothing_kept(server)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (as_ndjson([vital("LCP", 1, NOW)]) + b'{"schema": \n', "NDJSON line 2"),
        (as_array(VITALS)[:-1], "character"),
        (b"\xff\xfe[]", "UTF-8"),
    ],
    ids=["ndjson", "array", "bytes"],
)
def test_delivery__not_json__is_400_naming_where_and_keeps_nothing(
    server: RunningServer, body: bytes, where: str
) -> None:
    answer = _post(server, body, signed(body))

    assert answer.status_code == 400, answer.text
    assert where in answer.json()["error"]["message"]
    assert _nothing_kept(server)


def test_delivery__to_an_unknown_project__is_404(server: RunningServer) -> None:
    body = as_array(VITALS)
    answer = httpx.post(
        server.url + "/webhooks/vercel/nowhere", content=body, headers=signed(body), timeout=30
    )

    assert answer.status_code == 404
    assert "nowhere" in answer.json()["error"]["message"]
    assert _nothing_kept(server)


def test_retention_sweep__forgets_records_older_than_30_days_only(server: RunningServer) -> None:
    old = [vital("LCP", 9000, NOW - timedelta(days=31)) for _ in range(3)]
    body = as_array([*old, vital("LCP", 1000, NOW - timedelta(days=29))])
    assert _post(server, body, signed(body)).status_code == 202

    assert server.services.vercel_drains.sweep() == 3
    assert _count(server, VITAL, "LCP") == (1, 0)
    assert server.services.vercel_drains.sweep() == 0  # not again before ten minutes


def test_delivery__signed_hostile_records__are_skipped_and_counted_and_the_rest_kept(
    server: RunningServer,
) -> None:
    huge = '{"schema": "vercel.speed_insights.v1", "metricType": "LCP", "value": 1' + "0" * 400
    huge += ', "timestamp": "' + NOW.isoformat() + '"}'
    year_one = {**vital("LCP", 1, NOW), "timestamp": "0001-01-01T00:00:00+01:00"}
    year_last = {**vital("LCP", 1, NOW), "timestamp": "9999-12-31T23:59:59-01:00"}
    huge_status = log_line(NOW, 200, request_id="h")
    huge_status["proxy"]["statusCode"] = 10**400
    rest = as_ndjson([year_one, year_last, huge_status, vital("LCP", 1800, NOW)])
    body = huge.encode() + b"\n" + rest
    answer = _post(server, body, signed(body))

    assert answer.status_code == 202, answer.text
    assert answer.json()["stored"] == 1
    assert answer.json()["skipped_reasons"] == {
        "value is too large": 1,
        "timestamp out of range": 2,
        "proxy.statusCode is not an HTTP status": 1,
    }
    assert _count(server, VITAL, "LCP") == (1, 0)


def test_delivery__ndjson_past_the_record_cap__counts_the_rest_unread(
    server: RunningServer,
) -> None:
    # The line past the cap is not JSON: read, it would refuse the whole delivery.
    body = b"{}\n" * MAX_RECORDS + b"\n \n" + b'{"not json\n' + b"{}\r\n" * 4
    answer = _post(server, body, signed(body))

    assert answer.status_code == 202, answer.text
    assert answer.json()["skipped_reasons"] == {
        "log line without a request (no proxy)": MAX_RECORDS,
        BEYOND: 5,
    }
    assert _nothing_kept(server)


def test_delivery__unsigned_with_a_long_environment__is_403_before_the_environment(
    server: RunningServer,
) -> None:
    answer = httpx.post(
        server.url + PATH,
        params={"environment": "p" * 300},
        content=as_array(VITALS),
        timeout=30,
    )

    assert answer.status_code == 403, answer.text
    assert answer.json()["error"]["field"] == "x-vercel-signature"
    assert _nothing_kept(server)


def test_retention_sweep__a_backlog_past_a_calls_batches__is_pruned_over_several_calls(
    server: RunningServer,
) -> None:
    old = [vital("LCP", 9000, NOW - timedelta(days=31, minutes=m)) for m in range(7)]
    body = as_array([*old, vital("LCP", 1000, NOW - timedelta(days=29))])
    assert _post(server, body, signed(body)).status_code == 202
    drains = VercelDrains(
        server.services.store, VercelDrainSettings(), prune_batch=2, prune_batches=2
    )

    assert drains.sweep() == 4  # two batches of two: the backlog is not done
    assert drains.sweep() == 3  # carried on, not held back ten minutes
    assert drains.sweep() == 0  # caught up: not again before ten minutes
    assert _count(server, VITAL, "LCP") == (1, 0)
