"""Prometheus: one PromQL instant query, evaluated at the end of the check's window.

Settings::

    url:      https://prometheus.example.com:9090   # the base URL (a path prefix is fine)
    query:    sum(rate(http_errors_total{flag="{flag}"}[5m]))
              / sum(rate(http_requests_total{flag="{flag}"}[5m]))
    headers:  {Authorization: "Bearer ..."}         # optional, e.g. for a proxy in front

The query goes to the documented HTTP API, ``GET <url>/api/v1/query?query=...&time=<unix>``
with ``time`` = the window's end. ``{flag}``, ``{environment}`` and ``{project}`` in the
query are replaced by the window's values, escaped for a double-quoted PromQL string, so they
belong inside double quotes: ``{flag="{flag}"}``. The answer:

- one series (an instant vector of one sample) or a scalar: its value;
- no series: no data (``Reading(None)``), as is a NaN or infinite value (``0/0``);
- several series: refused, with the advice to aggregate them (``sum(...)``);
- a range vector, a string, or Prometheus's own error (``bad_data`` for a syntax error):
  ``MetricUnavailable`` with Prometheus's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipwise.domain.guardrails import Reading
from shipwise.server.metrics import _http
from shipwise.server.ports import MetricDefinition, MetricUnavailable, MetricWindow

__all__ = ["PrometheusSource"]

_SETTINGS = ("url", "query", "headers")
_EXPECTED = 'Prometheus\'s JSON, {"status": "success", "data": {...}}'
_SHOWN_SERIES = 3


class PrometheusSource:
    """Reads a metric from Prometheus (or anything that speaks its query API: Thanos,
    Mimir, VictoriaMetrics)."""

    kind = "prometheus"

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout

    def problems(self, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = _http.unknown_settings(settings, _SETTINGS)
        problems += _http.url_problems(settings, "url", required=True)
        url = settings.get("url")
        if not problems and isinstance(url, str) and "/api/v1" in url:
            problems.append(
                ("url", "write Prometheus's base URL, without /api/v1/...: e.g. http://host:9090")
            )
        problems += _http.text_problems(settings, "query", required=True)
        problems += _http.headers_problems(settings)
        return problems

    def read(self, definition: MetricDefinition, window: MetricWindow) -> Reading:
        settings = definition.settings
        _http.unavailable_if(self.problems(settings), f"Prometheus {definition.name!r}")
        endpoint = str(settings["url"]).rstrip("/") + "/api/v1/query"
        query = _http.fill(str(settings["query"]), window, _promql_string)
        answer = _http.get_json(
            endpoint,
            params={
                "query": query,
                "time": f"{window.end.timestamp():.3f}",
                "timeout": f"{self.timeout:g}",  # seconds: Prometheus gives up when we do
            },
            headers=_http.filled_headers(settings, window),
            timeout=self.timeout,
            expected=_EXPECTED,
        )
        return _reading(answer)


def _reading(answer: _http.Answer) -> Reading:
    body = answer.body
    if not isinstance(body, dict) or body.get("status") not in ("success", "error"):
        raise MetricUnavailable(
            f"{answer.status_line()} with {_http.describe(body)}, expected {_EXPECTED}: "
            "is url the base URL of Prometheus?"
        )
    if body["status"] == "error":
        kind = body.get("errorType", "error")
        raise MetricUnavailable(
            f"Prometheus at {answer.url} refused the query "
            f"({answer.status}, {kind}): {body.get('error', 'no message')}"
        )
    data = body.get("data")
    if not answer.ok or not isinstance(data, dict):
        raise MetricUnavailable(f"{answer.status_line()} without a result, expected {_EXPECTED}")
    result_type, result = data.get("resultType"), data.get("result")
    try:
        if result_type == "vector" and isinstance(result, list):
            return _from_vector(result)
        if result_type == "scalar" and isinstance(result, list) and len(result) == 2:
            return Reading(_http.number(result[1]))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        raise MetricUnavailable(
            f"{answer.url}: unexpected sample in the result ({error})"
        ) from None
    if result_type == "matrix":
        raise MetricUnavailable(
            "the query returned a range vector: write an instant query, e.g. drop the "
            "[5m] or wrap it in a function such as rate(...[5m])"
        )
    if result_type == "string":
        raise MetricUnavailable("the query returned a string; a guardrail needs a number")
    raise MetricUnavailable(
        f"{answer.url}: unexpected result type {result_type!r}, expected a vector or a scalar"
    )


def _from_vector(series: list[Any]) -> Reading:
    if not series:
        return Reading(None)  # no series matched: no data, never a zero
    if len(series) > 1:
        labels = "; ".join(_labels(item.get("metric", {})) for item in series[:_SHOWN_SERIES])
        more = ", ..." if len(series) > _SHOWN_SERIES else ""
        raise MetricUnavailable(
            f"the query returned {len(series)} series ({labels}{more}); a guardrail needs one "
            "number: aggregate them, e.g. wrap the query in sum(...), or select one series "
            "with label matchers"
        )
    return Reading(_http.number(series[0]["value"][1]))


def _labels(metric: Mapping[str, Any]) -> str:
    name = str(metric.get("__name__", ""))
    pairs = ", ".join(f'{key}="{value}"' for key, value in metric.items() if key != "__name__")
    return f"{name}{{{pairs}}}"


def _promql_string(value: str) -> str:
    """A value placed inside a double-quoted PromQL string."""
    return value.replace("\\", "\\\\").replace('"', '\\"')
