"""``SentrySource`` over HTTP against a stand-in that speaks Sentry's documented stats_v2
wire format and refuses what Sentry refuses (``tests/support/sentry_standin.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.support.local_http import closed_port_url
from tests.support.sentry_standin import SentryStandin, sentry_standin

from shipwise.domain.guardrails import Reading
from shipwise.server.metrics.sentry import SentrySource
from shipwise.server.ports import MetricDefinition, MetricUnavailable, MetricWindow

TOKEN = "sntryu_a-real-looking-secret"
TOKEN_ENV = "SHIPWISE_TEST_SENTRY_TOKEN"
SHOP, BACKOFFICE = 4504112277, 4504112288
TEN = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def sentry(monkeypatch: pytest.MonkeyPatch) -> Iterator[SentryStandin]:
    """Sentry as sentry.io's servers behave: minute intervals accepted."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with sentry_standin(TOKEN, "acme", (SHOP, BACKOFFICE), minimum_interval=60) as standin:
        yield standin


@pytest.fixture
def hourly_sentry(monkeypatch: pytest.MonkeyPatch) -> Iterator[SentryStandin]:
    """Sentry as its API reference documents it: 1h is the smallest interval."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with sentry_standin(TOKEN, "acme", (SHOP, BACKOFFICE), minimum_interval=3600) as standin:
        yield standin


def _read(url: str, window: MetricWindow | None = None, **settings: Any) -> Reading:
    settings = {"url": url, "organization": "acme", "token_env": TOKEN_ENV, **settings}
    definition = MetricDefinition(1, "checkout-errors", "sentry", settings)
    return SentrySource(timeout=5).read(
        definition, window or _window(TEN, TEN + timedelta(minutes=30))
    )


def _window(start: datetime, end: datetime) -> MetricWindow:
    return MetricWindow("shop", "production", "new-checkout", start, end)


def test_read__accepted_errors_in_the_window__are_counted(sentry: SentryStandin) -> None:
    # Given errors inside the window 10:00-10:30 and just outside it
    sentry.add(TEN + timedelta(minutes=5), 3)
    sentry.add(TEN + timedelta(minutes=29, seconds=59), 2)
    sentry.add(TEN - timedelta(minutes=1), 7)
    sentry.add(TEN + timedelta(minutes=30), 5)

    # When the metric is read with minute intervals
    reading = _read(sentry.url, interval="1m")

    # Then only the five inside count
    assert reading == Reading(5.0)


def test_read__sends_the_documented_query(sentry: SentryStandin) -> None:
    _read(sentry.url, project=SHOP, interval="1m")

    (request,) = sentry.requests
    assert request.path == "/api/0/organizations/acme/stats_v2/"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.query == {
        "field": ["sum(quantity)"],
        "category": ["error"],
        "outcome": ["accepted"],
        "groupBy": ["outcome"],
        "start": ["2025-03-03T10:00:00Z"],
        "end": ["2025-03-03T10:30:00Z"],
        "interval": ["1m"],
        "project": [str(SHOP)],
    }


def test_read__documented_hourly_interval__counts_the_whole_first_hour(
    hourly_sentry: SentryStandin,
) -> None:
    # Given an error early in the hour and one the hour before
    hourly_sentry.add(TEN + timedelta(minutes=5), 3)
    hourly_sentry.add(TEN - timedelta(minutes=5), 7)

    # When a window 10:20-10:30 is read with the default interval (1h)
    reading = _read(
        hourly_sentry.url, _window(TEN + timedelta(minutes=20), TEN + timedelta(minutes=30))
    )

    # Then Sentry widened it to 10:00-11:00: the 10:05 errors count, the 9:55 ones do not
    assert reading == Reading(3.0)
    assert hourly_sentry.requests[0].query["interval"] == ["1h"]


def test_read__no_events__is_a_count_of_zero(sentry: SentryStandin) -> None:
    assert _read(sentry.url) == Reading(0.0)


def test_read__only_the_project_category_and_outcome_asked_for(sentry: SentryStandin) -> None:
    # Given accepted errors of the shop (some of Sentry's "default" category, which Sentry
    # counts as errors) and events the metric must not count
    at = TEN + timedelta(minutes=10)
    sentry.add(at, 4, project=SHOP)
    sentry.add(at, 1, project=SHOP, category="default")
    sentry.add(at, 50, project=SHOP, category="transaction")
    sentry.add(at, 20, project=SHOP, outcome="rate_limited", reason="usage_exceeded")
    sentry.add(at, 9, project=BACKOFFICE)

    assert _read(sentry.url, project=SHOP) == Reading(5.0)
    assert _read(sentry.url, project=[SHOP, BACKOFFICE]) == Reading(14.0)
    assert _read(sentry.url) == Reading(14.0)  # no project: the whole organization
    assert _read(sentry.url, outcome="rate_limited") == Reading(20.0)
    assert _read(sentry.url, category="transaction") == Reading(50.0)


def test_read__long_window__asks_with_an_interval_sentry_accepts(sentry: SentryStandin) -> None:
    # Given a two-day window: in minutes that is more than Sentry's 1000 intervals
    start = TEN - timedelta(days=2)
    sentry.add(start + timedelta(hours=1), 2)
    sentry.add(TEN, 3)

    reading = _read(sentry.url, _window(start, TEN + timedelta(minutes=1)), interval="1m")

    assert reading == Reading(5.0)
    assert sentry.requests[0].query["interval"] == ["3m"]


def test_read__long_window_where_sentry_allows_hours__asks_in_whole_hours(
    hourly_sentry: SentryStandin,
) -> None:
    # Given a sixty-day window: 1440 hours, more than Sentry's 1000 intervals
    start = TEN - timedelta(days=60)
    hourly_sentry.add(start, 4)

    reading = _read(hourly_sentry.url, _window(start, TEN))

    assert reading == Reading(4.0)
    assert hourly_sentry.requests[0].query["interval"] == ["2h"]


def test_read__token_from_the_environment__never_in_messages(
    sentry: SentryStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the variable holds a token Sentry does not know
    monkeypatch.setenv(TOKEN_ENV, "sntryu_revoked-secret")

    with pytest.raises(MetricUnavailable) as raised:
        _read(sentry.url)

    message = str(raised.value)
    assert "answered 401 Unauthorized: Invalid token" in message
    assert "org:read" in message
    assert "revoked-secret" not in message


def test_read__token_variable_unset__names_the_variable(
    sentry: SentryStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV)

    with pytest.raises(MetricUnavailable, match=f"environment variable {TOKEN_ENV} is not set"):
        _read(sentry.url)
    assert sentry.requests == []


def test_read__token_in_the_settings__is_sent(sentry: SentryStandin) -> None:
    settings = {"url": sentry.url, "organization": "acme", "token": TOKEN}
    definition = MetricDefinition(1, "errors", "sentry", settings)

    assert SentrySource().read(definition, _window(TEN, TEN)) == Reading(0.0)


def test_read__another_organization__is_a_404(sentry: SentryStandin) -> None:
    with pytest.raises(MetricUnavailable) as raised:
        _read(sentry.url, organization="umbrella")

    assert "answered 404 Not Found: The requested resource does not exist" in str(raised.value)
    assert "check url and organization" in str(raised.value)


def test_read__a_project_of_another_organization__is_a_403(sentry: SentryStandin) -> None:
    with pytest.raises(MetricUnavailable, match="403 Forbidden: You do not have permission"):
        _read(sentry.url, project=123)


def test_read__minute_interval_where_sentry_allows_hours__surfaces_sentrys_words(
    hourly_sentry: SentryStandin,
) -> None:
    with pytest.raises(MetricUnavailable) as raised:
        _read(hourly_sentry.url, interval="1m")

    message = str(raised.value)
    assert "answered 400 Bad Request" in message
    assert "The interval has to be a multiple of the minimum interval of one hour." in message


def test_read__sentry_down__is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    url = closed_port_url()

    with pytest.raises(MetricUnavailable, match=f"cannot connect to {url}/api/0/organizations"):
        _read(url)
