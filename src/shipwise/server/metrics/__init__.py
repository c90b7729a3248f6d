"""Metric sources: adapters that implement ``ports.MetricSource`` for the rollout runner.

The pulled sources ask another system over HTTP when a guardrail is checked:

- ``prometheus`` (``PrometheusSource``): a PromQL instant query at the window's end;
- ``sentry`` (``SentrySource``): an event count from Sentry's organization stats, or with
  ``split: flag`` the error events of each arm (``sentry_arms``);
- ``json`` (``JsonUrlSource``): a number picked out of any JSON document by a path;
- ``zendesk`` (``ZendeskSource``): how many support tickets a Zendesk search finds that
  were created in the window;
- ``cloud-logging`` (``CloudLoggingSource``): how many Google Cloud Logging entries
  (Firebase's function logs) match a filter in the window, in total or for each arm.

Each checks a definition's settings before it is saved (``problems``: (field, message)
pairs that say what to write instead) and reads a ``Reading`` for a ``MetricWindow``, or
``ArmCounts`` where the source counts each arm. String settings may name the check with
``{flag}``, ``{environment}`` and ``{project}`` (Sentry's stats take none: they cannot
filter by them; its ``split: flag`` mode's ``environment`` and ``query`` may). A read
that fails for any reason raises ``MetricUnavailable`` (``shipwise.server.ports``), never
another exception, with a message naming the URL, the HTTP status and what was expected;
no read retries, the next check asks again. Only ``server.bootstrap`` imports this package.
"""

from __future__ import annotations

from shipwise.server.metrics.cloud_logging import CloudLoggingSource
from shipwise.server.metrics.json_url import JsonUrlSource
from shipwise.server.metrics.prometheus import PrometheusSource
from shipwise.server.metrics.sentry import SentrySource
from shipwise.server.metrics.zendesk import ZendeskSource
from shipwise.server.ports import MetricSource

__all__ = [
    "CloudLoggingSource",
    "JsonUrlSource",
    "PrometheusSource",
    "SentrySource",
    "ZendeskSource",
    "pulled_sources",
]


def pulled_sources(http_timeout: float = 5.0) -> dict[str, MetricSource]:
    """The sources that ask other systems over HTTP, by ``kind``; ``http_timeout`` is in
    seconds, for connecting and for each read of the answer."""
    sources: list[MetricSource] = [
        PrometheusSource(http_timeout),
        SentrySource(http_timeout),
        JsonUrlSource(http_timeout),
        ZendeskSource(http_timeout),
        CloudLoggingSource(http_timeout),
    ]
    return {source.kind: source for source in sources}
