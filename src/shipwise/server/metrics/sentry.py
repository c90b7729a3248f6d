"""Sentry: how many events an organization's projects sent during the check's window.

Settings::

    url:           https://sentry.io        # default; your own host when self-hosted
    organization:  acme                     # the organization's slug (or id)
    project:       4504112277               # optional: a project id, or a list of ids
    category:      error                    # default; or transaction, attachment, ...
    outcome:       accepted                 # default; or filtered, rate_limited, invalid,
                                            #   abuse, client_discard, cardinality_limited
    interval:      1h                       # default; Sentry's time resolution
    token_env:     SENTRY_AUTH_TOKEN        # the variable holding an auth token (org:read)
    token:         sntrys_...               # or the token itself (stored with the metric)

It asks the documented organization stats API, ``GET <url>/api/0/organizations/<org>/
stats_v2/?field=sum(quantity)&category=...&outcome=...&groupBy=outcome&start=...&end=...
&interval=...`` with ``Authorization: Bearer <token>``, and the reading is the sum of the
groups' ``totals["sum(quantity)"]``: the number of events. Sentry answering with no group
means no events: a reading of 0 (Sentry was asked and counted nothing).

What a user must know:

- Sentry counts whole intervals: the window is widened to interval boundaries, so with the
  documented (and default) ``1h`` a ten-minute window also counts the events earlier in
  its first hour. Sentry's servers accept ``interval: 1m`` too (the API reference names 1h
  as the minimum); an interval must divide a day. A window longer than 1000 intervals (Sentry's
  limit) is asked with the smallest multiple of the interval that divides a day and fits.
- The stats API cannot filter by flag or environment, so these settings take no
  placeholders: the count is the whole project's (or organization's). For errors per
  arm, set ``split: flag`` (``sentry_arms``): Sentry's events API then counts the errors
  whose recorded flag was on and off, and the guardrail compares the arms.
- Outcomes reach the stats a little after the events: the last minute may be incomplete.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shipwise.domain.guardrails import ArmCounts, Reading
from shipwise.server.metrics import _http, sentry_arms
from shipwise.server.metrics._token import TokenSetting
from shipwise.server.ports import MetricDefinition, MetricUnavailable, MetricWindow

__all__ = ["OUTCOMES", "SentrySource"]

DEFAULT_URL = "https://sentry.io"
OUTCOMES = (
    "accepted",
    "filtered",
    "rate_limited",
    "invalid",
    "abuse",
    "client_discard",
    "cardinality_limited",
)
_SETTINGS = (
    "url",
    "organization",
    "project",
    "category",
    "outcome",
    "interval",
    "token",
    "token_env",
)
_FIELD = "sum(quantity)"
_SLUG = re.compile(r"[A-Za-z0-9_-]+")
_CATEGORY = re.compile(r"[a-z_]+")
_INTERVAL = re.compile(r"([1-9][0-9]*)([mhd])")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}
_DAY = 86400
_MAX_POINTS = 1000  # Sentry refuses more intervals than this in one answer
_SECRET = TokenSetting(
    "auth token",
    "SENTRY_AUTH_TOKEN",
    "required: the name of an environment variable holding a Sentry auth token with the "
    "org:read scope, e.g. SENTRY_AUTH_TOKEN",
)
_EXPECTED = 'Sentry\'s stats JSON, {"groups": [{"totals": {"sum(quantity)": ...}}], ...}'


class SentrySource:
    """Reads an event count from Sentry's organization stats (v2), or with ``split: flag``
    the errors of each arm from its events API (``sentry_arms``)."""

    kind = "sentry"

    def __init__(self, timeout: float = 5.0, environ: Mapping[str, str] | None = None) -> None:
        self.timeout = timeout
        self._environ = environ  # None: the process's environment, read at each use

    @property
    def environ(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def problems(self, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        split = "split" in settings
        known = _SETTINGS + sentry_arms.SETTINGS if split else _SETTINGS
        problems = _http.unknown_settings(settings, known)
        problems += _http.url_problems(settings, "url", required=False)
        problems += self._organization_problems(settings.get("organization"))
        problems += _project_problems(settings.get("project"))
        if split:
            problems += sentry_arms.problems(settings)
        else:
            problems += self._stats_problems(settings)
        problems += _SECRET.problems(settings, self.environ)
        url = settings.get("url")
        if isinstance(url, str) and _http.has_placeholder(url):
            problems.append(
                (
                    "url",
                    "Sentry's events API takes the flag and environment in the query: "
                    "write the URL itself, without placeholders"
                    if split
                    else "Sentry's stats cannot filter by flag, environment or project "
                    "name: write the URL itself, without placeholders",
                )
            )
        return problems

    @staticmethod
    def _stats_problems(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        category = settings.get("category", "error")
        if not isinstance(category, str) or not _CATEGORY.fullmatch(category):
            problems.append(
                ("category", "write a Sentry data category: error, transaction, attachment, ...")
            )
        if settings.get("outcome", "accepted") not in OUTCOMES:
            problems.append(("outcome", f"write one of {', '.join(OUTCOMES)}"))
        interval = settings.get("interval", "1h")
        if _interval_seconds(interval) is None:
            problems.append(
                (
                    "interval",
                    "write minutes, hours or a day that divide a day evenly: "
                    "1m, 5m, 10m, 15m, 30m, 1h, 2h, 3h, 4h, 6h, 8h, 12h or 1d",
                )
            )
        return problems

    @staticmethod
    def _organization_problems(organization: Any) -> list[tuple[str, str]]:
        if organization is None:
            return [("organization", "required: the organization's slug, as in its Sentry URL")]
        if not isinstance(organization, str) or not _SLUG.fullmatch(organization):
            return [("organization", "write the organization's slug: letters, digits, - and _")]
        return []

    def read(self, definition: MetricDefinition, window: MetricWindow) -> Reading | ArmCounts:
        settings = definition.settings
        _http.unavailable_if(self.problems(settings), f"Sentry {definition.name!r}")
        base = str(settings.get("url", DEFAULT_URL)).rstrip("/")
        organization = str(settings["organization"])
        if "split" in settings:
            return sentry_arms.count_arms(
                base,
                organization,
                _project_ids(settings.get("project")) or [],
                _SECRET.value(settings, self.environ),
                settings,
                window,
                timeout=self.timeout,
                refused=_refused,
            )
        endpoint = f"{base}/api/0/organizations/{organization}/stats_v2/"
        start, end = window.start, max(window.end, window.start)
        interval = _fitting_interval(
            _interval_seconds(settings.get("interval", "1h")) or 3600, start, end
        )
        params: dict[str, str | list[str]] = {
            "field": _FIELD,
            "category": str(settings.get("category", "error")),
            "outcome": str(settings.get("outcome", "accepted")),
            "groupBy": "outcome",
            "start": _http.utc_text(start),
            "end": _http.utc_text(end),
            "interval": _interval_text(interval),
        }
        projects = _project_ids(settings.get("project"))
        if projects:
            params["project"] = projects
        answer = _http.get_json(
            endpoint,
            params=params,
            headers={"Authorization": f"Bearer {_SECRET.value(settings, self.environ)}"},
            timeout=self.timeout,
            expected=_EXPECTED,
        )
        if not answer.ok:
            raise _refused(answer)
        return Reading(_count(answer))


def _refused(answer: _http.Answer) -> MetricUnavailable:
    """Sentry's refusal in its words (``detail``), with what to check."""
    detail = answer.body.get("detail") if isinstance(answer.body, dict) else None
    return MetricUnavailable(
        f"Sentry: {answer.status_line()}: "
        f"{detail if isinstance(detail, str) else answer.body_snippet()}"
        f"{_HINTS.get(answer.status, '')}"
    )


_HINTS = {
    400: " (Sentry refused the query's parameters)",
    401: " (check the auth token: it must be valid and have the org:read scope)",
    403: " (the token may not read this organization or one of its projects)",
    404: " (check url and organization: no such organization there)",
    429: " (Sentry's rate limit: the next check tries again)",
}


def _count(answer: _http.Answer) -> float:
    body = answer.body
    groups = body.get("groups") if isinstance(body, dict) else None
    if not isinstance(groups, list):
        raise MetricUnavailable(
            f"{answer.status_line()} with {_http.describe(body)}, expected {_EXPECTED}"
        )
    total = 0.0
    for group in groups:
        totals = group.get("totals") if isinstance(group, dict) else None
        value = totals.get(_FIELD) if isinstance(totals, dict) else None
        try:
            number = _http.number(value)
        except ValueError:
            number = None
        if number is None:
            raise MetricUnavailable(
                f"{answer.url}: a group without a number in totals[{_FIELD!r}] "
                f"({_http.describe(group)}), expected {_EXPECTED}"
            )
        total += number
    return total


def _project_problems(project: Any) -> list[tuple[str, str]]:
    if project is None:
        return []
    if _project_ids(project) is None:
        return [("project", "write a Sentry project id (a number) or a list of ids")]
    return []


def _project_ids(project: Any) -> list[str] | None:
    """The project setting as the ``project`` parameters; None when it is not ids."""
    if project is None:
        return []
    items = project if isinstance(project, list) else [project]
    ids: list[str] = []
    for item in items:
        if isinstance(item, bool):
            return None
        text = str(item).strip() if isinstance(item, int | str) else ""
        if not re.fullmatch(r"-?[0-9]+", text):
            return None
        ids.append(text)
    return ids or None


def _interval_seconds(value: Any) -> int | None:
    match = _INTERVAL.fullmatch(value) if isinstance(value, str) else None
    if not match:
        return None
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return seconds if seconds <= _DAY and _DAY % seconds == 0 else None


def _fitting_interval(interval: int, start: datetime, end: datetime) -> int:
    """``interval``, or the smallest multiple of it that divides a day and keeps the window
    within Sentry's limit of 1000 intervals."""
    span = (end - start).total_seconds() + 2 * interval  # widened to whole intervals
    for candidate in range(interval, _DAY + 1, interval):  # multiples: the server's minimum
        if _DAY % candidate == 0 and span / candidate <= _MAX_POINTS:
            return candidate
    return _DAY  # a window of more than 1000 days: Sentry refuses it, and says so


def _interval_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds // 60}m"
