"""``PrometheusSource`` against a real Prometheus (Debian's package), scraping an exporter
whose counters the test sets, every second. Nothing is mocked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.support.local_http import closed_port_url
from tests.support.prometheus import Exporter, Prometheus, exporter, running_prometheus, wait_for

from shipwise.domain.guardrails import Reading
from shipwise.server.metrics.prometheus import PrometheusSource
from shipwise.server.ports import MetricDefinition, MetricUnavailable, MetricWindow

FLAG = "new-checkout"
ORDERS_PER_SECOND = 20.0


@pytest.fixture(scope="module")
def app() -> Iterator[Exporter]:
    """Given an application whose new checkout served 1000 requests, 14 of them errors
    (6 of 200 with the feature, 8 of 800 without), and takes 20 orders a second."""
    with exporter() as running:
        counters = running.counters
        counters.set("checkout_requests_total", 200, flag=FLAG, arm="on")
        counters.set("checkout_requests_total", 800, flag=FLAG, arm="off")
        counters.set("checkout_errors_total", 6, flag=FLAG, arm="on")
        counters.set("checkout_errors_total", 8, flag=FLAG, arm="off")
        counters.grow("orders_total", ORDERS_PER_SECOND, flag=FLAG)
        yield running


@pytest.fixture(scope="module")
def prometheus(app: Exporter, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    with running_prometheus(tmp_path_factory.mktemp("prometheus"), [app.address]) as server:
        # Ready when a 5-second rate has its range full of samples (a rate over fewer
        # samples comes out low: Prometheus extrapolates only half a scrape beyond them).
        wait_for(
            lambda: _read(server.url, "sum(count_over_time(orders_total[10s]))"),
            until=lambda reading: (reading.value or 0) >= 7,
        )
        yield server


def _window(flag: str = FLAG, end: datetime | None = None) -> MetricWindow:
    end = end or datetime.now(UTC)
    return MetricWindow("shop", "production", flag, end - timedelta(minutes=10), end)


def _read(url: str, query: str, window: MetricWindow | None = None) -> Reading:
    definition = MetricDefinition(1, "checkout-errors", "prometheus", {"url": url, "query": query})
    return PrometheusSource(timeout=5).read(definition, window or _window())


def test_read__ratio_of_counters_for_the_flag__is_the_one_value(prometheus: Prometheus) -> None:
    # When the query asks for the flag's error ratio, through the {flag} placeholder
    reading = _read(
        prometheus.url,
        'sum(checkout_errors_total{flag="{flag}"}) / sum(checkout_requests_total{flag="{flag}"})',
    )

    # Then the reading is 14 / 1000, and the source does not claim a sample size
    assert reading == Reading(pytest.approx(0.014), None)


def test_read__one_arm_by_label__is_that_arms_ratio(prometheus: Prometheus) -> None:
    reading = _read(
        prometheus.url,
        'sum(checkout_errors_total{arm="on"}) / sum(checkout_requests_total{arm="on"})',
    )

    assert reading.value == pytest.approx(0.03)


def test_read__rate_of_a_growing_counter__is_per_second(prometheus: Prometheus) -> None:
    reading = _read(prometheus.url, 'sum(rate(orders_total{flag="{flag}"}[5s]))')

    assert reading.value == pytest.approx(ORDERS_PER_SECOND, rel=0.25)


def test_read__scalar_result__is_its_value(prometheus: Prometheus) -> None:
    reading = _read(prometheus.url, "scalar(sum(checkout_requests_total))")

    assert reading == Reading(1000.0)


def test_read__no_series_for_another_flag__is_no_data(prometheus: Prometheus) -> None:
    # When the flag in the window has no series at all
    reading = _read(
        prometheus.url,
        'sum(checkout_errors_total{flag="{flag}"})',
        _window(flag="someone-elses-flag"),
    )

    # Then there is no data: not a zero, which would look healthy
    assert reading == Reading(None)


def test_read__window_ending_before_the_data__is_no_data(prometheus: Prometheus) -> None:
    # The query is evaluated at the window's end, an hour before the first scrape
    reading = _read(
        prometheus.url,
        "sum(checkout_requests_total)",
        _window(end=datetime.now(UTC) - timedelta(hours=1)),
    )

    assert reading == Reading(None)


def test_read__nan__is_no_data(prometheus: Prometheus) -> None:
    # 0 errors out of 0 requests: Prometheus answers NaN
    reading = _read(prometheus.url, "sum(checkout_errors_total) * 0 / 0")

    assert reading == Reading(None)


def test_read__several_series__refused_with_the_advice_to_aggregate(
    prometheus: Prometheus,
) -> None:
    with pytest.raises(MetricUnavailable) as raised:
        _read(prometheus.url, "checkout_requests_total")

    message = str(raised.value)
    assert "returned 2 series" in message
    assert 'arm="on"' in message
    assert "sum(...)" in message


def test_read__range_vector__refused_with_the_advice_to_write_an_instant_query(
    prometheus: Prometheus,
) -> None:
    with pytest.raises(MetricUnavailable, match="range vector: write an instant query"):
        _read(prometheus.url, "checkout_requests_total[1m]")


def test_read__syntax_error__surfaces_prometheus_own_message(prometheus: Prometheus) -> None:
    with pytest.raises(MetricUnavailable) as raised:
        _read(prometheus.url, "sum(rate(checkout_requests_total[5m])")

    message = str(raised.value)
    assert f"Prometheus at {prometheus.url}/api/v1/query refused the query" in message
    assert "bad_data" in message
    assert "parse error" in message  # Prometheus's words, as it wrote them


def test_read__url_of_something_else__says_what_was_expected(app: Exporter) -> None:
    # The exporter is not Prometheus: its /api/v1/query is a 404 in plain text
    with pytest.raises(MetricUnavailable) as raised:
        _read(f"http://{app.address}", "sum(checkout_requests_total)")

    message = str(raised.value)
    assert f"http://{app.address}/api/v1/query answered 404" in message
    assert "not JSON (expected Prometheus's JSON" in message


def test_read__prometheus_down__is_unavailable() -> None:
    url = closed_port_url()

    with pytest.raises(MetricUnavailable, match=f"cannot connect to {url}/api/v1/query"):
        _read(url, "sum(checkout_requests_total)")
