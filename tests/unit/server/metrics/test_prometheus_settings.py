"""``PrometheusSource.problems``: what is wrong with a definition's settings, in words that
say what to write instead. No network: a read with wrong settings refuses before asking."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shipwise.server.metrics import (
    CloudLoggingSource,
    JsonUrlSource,
    PrometheusSource,
    SentrySource,
    ZendeskSource,
    pulled_sources,
)
from shipwise.server.ports import MetricDefinition, MetricUnavailable, MetricWindow

GOOD = {"url": "http://prometheus:9090", "query": "sum(up)"}


@pytest.mark.parametrize(
    "settings",
    [
        GOOD,
        {"url": "https://metrics.example.com/prometheus/", "query": "up"},
        {
            "url": "http://prometheus:9090",
            "query": 'sum(rate(errors_total{flag="{flag}", env="{environment}"}[5m]))',
            "headers": {"Authorization": "Bearer abc", "X-Scope-OrgID": "{project}"},
        },
        # PromQL's own braces are no placeholders: label matchers, regex counts
        {"url": "http://p:9090", "query": 'sum(x{job="api"}) / sum(y{code=~"5[0-9]{2}"})'},
    ],
    ids=["minimal", "path-prefix", "placeholders-and-headers", "promql-braces"],
)
def test_problems__good_settings__none(settings: dict[str, Any]) -> None:
    assert PrometheusSource().problems(settings) == []


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, [("url", "required"), ("query", "required")]),
        (
            {**GOOD, "querry": "up"},
            [("querry", "unknown setting; the settings are url, query, headers")],
        ),
        (
            {**GOOD, "url": "prometheus:9090"},
            [("url", "write an absolute http:// or https:// URL, e.g. https://host:9090")],
        ),
        (
            {**GOOD, "url": "http://prometheus:9090/api/v1/query"},
            [("url", "write Prometheus's base URL, without /api/v1/...: e.g. http://host:9090")],
        ),
        (
            {**GOOD, "query": 'sum(errors_total{flag="{flags}"})'},
            [
                (
                    "query",
                    "unknown placeholder {flags}: write one of {flag}, {environment}, {project}",
                )
            ],
        ),
        ({**GOOD, "query": 5}, [("query", "write a non-empty text, not the number 5")]),
        ({**GOOD, "query": "  "}, [("query", "write a non-empty text, not the text ''")]),
        (
            {**GOOD, "headers": ["Authorization: x"]},
            [("headers", "write a mapping of header names to values, not a list of 1")],
        ),
        (
            {**GOOD, "headers": {"X Key": "1"}},
            [("headers.X Key", "a header name is letters, digits and -, e.g. X-Api-Key")],
        ),
        (
            {**GOOD, "headers": {"X-Key": "a\nb"}},
            [("headers.X-Key", "a header value is printable ASCII on one line")],
        ),
        (
            {**GOOD, "headers": {"X-Key": 7}},
            [("headers.X-Key", "write the header's value as text, not the number 7")],
        ),
    ],
    ids=[
        "empty",
        "unknown-setting",
        "not-http",
        "api-path",
        "unknown-placeholder",
        "query-not-text",
        "query-blank",
        "headers-not-mapping",
        "header-name",
        "header-value-two-lines",
        "header-value-not-text",
    ],
)
def test_problems__wrong_settings__say_what_to_write(
    settings: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert PrometheusSource().problems(settings) == expected


def test_read__settings_saved_before_they_were_checked__refused_without_asking() -> None:
    definition = MetricDefinition(1, "errors", "prometheus", {"url": "http://p:9090"})
    now = datetime.now(UTC)
    window = MetricWindow("shop", "production", "new-checkout", now, now)

    with pytest.raises(MetricUnavailable) as raised:
        PrometheusSource().read(definition, window)

    assert (
        str(raised.value) == "the Prometheus 'errors' metric's settings are wrong: query: required"
    )


def test_pulled_sources__by_kind__with_the_timeout() -> None:
    sources = pulled_sources(http_timeout=2.5)

    assert {kind: type(source) for kind, source in sources.items()} == {
        "prometheus": PrometheusSource,
        "sentry": SentrySource,
        "json": JsonUrlSource,
        "zendesk": ZendeskSource,
        "cloud-logging": CloudLoggingSource,
    }
    assert all(getattr(source, "timeout", None) == 2.5 for source in sources.values())
