"""Sentry's errors counted per arm: the ``sentry`` source with ``split: flag``.

Settings (beside ``url``, ``organization``, ``project``, ``token_env``/``token``)::

    split:        flag                   # count the errors of each arm of the check's flag
    environment:  production             # optional: Sentry's environment, or {environment}
    query:        "level:fatal"          # optional: more of Sentry's search, ANDed

SDKs that record evaluations in Sentry's feature-flag context (the Python SDK's
``Client(..., sentry=True)``) send each error with the flags evaluated before it and their
values. Sentry's search documents a ``flags["<name>"]:true`` key for them, so for the
check's window and flag this asks the documented Discover events endpoint twice,
``GET <url>/api/0/organizations/<org>/events/?field=count()&dataset=errors&query=
flags["<flag>"]:true&start=...&end=...`` (and ``:false``), and returns ``ArmCounts``: the
rollout pairs them with the exposures the SDKs report, so the guardrail compares errors
per exposure between arms with the same always-valid statistics as the SDK's own events.

What a user must know:

- An error counts in an arm only when the flag was evaluated, in the same scope, before
  it; errors in code that never asked the flag are in neither arm (as they should be).
- Unlike the stats API, this counts exact times: the window is not widened.
- The token needs the ``org:read`` scope, as for the stats.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shipwise.domain.guardrails import ArmCounts
from shipwise.server.metrics import _http
from shipwise.server.ports import MetricUnavailable, MetricWindow

__all__ = ["SETTINGS", "count_arms", "flag_query", "problems"]

SETTINGS = ("split", "environment", "query")
STATS_ONLY = ("category", "outcome", "interval")  # the stats API's, meaningless here
_FIELD = "count()"
_EXPECTED = 'Sentry\'s events JSON, {"data": [{"count()": ...}], "meta": {...}}'

Problem = tuple[str, str]
Refusal = Callable[[_http.Answer], MetricUnavailable]  # sentry.py's words for a refusal


def problems(settings: Mapping[str, Any]) -> list[Problem]:
    """The per-arm settings' problems (the shared ones are sentry.py's)."""
    found: list[Problem] = []
    if settings.get("split") != "flag":
        found.append(("split", "write flag (count each arm of the checked flag), or leave it out"))
    found += _http.text_problems(settings, "environment", required=False)
    found += _http.text_problems(settings, "query", required=False)
    for name in STATS_ONLY:
        if name in settings:
            found.append(
                (name, "not with split: flag; the events API counts error events at exact times")
            )
    return found


def flag_query(flag: str, enabled: bool) -> str:
    """Sentry's search for errors whose recorded ``flag`` had the value ``enabled``; the
    name is quoted (flag keys may hold ``( ) ! * ' ~``) and a quote or backslash escaped."""
    name = flag.replace("\\", "\\\\").replace('"', '\\"')
    return f'flags["{name}"]:{"true" if enabled else "false"}'


def count_arms(
    base: str,
    organization: str,
    projects: list[str],
    token: str,
    settings: Mapping[str, Any],
    window: MetricWindow,
    *,
    timeout: float,
    refused: Refusal,
) -> ArmCounts:
    endpoint = f"{base}/api/0/organizations/{organization}/events/"
    start, end = window.start, max(window.end, window.start)
    params: dict[str, str | list[str]] = {
        "field": _FIELD,
        "dataset": "errors",
        "start": _http.utc_text(start),
        "end": _http.utc_text(end),
    }
    if projects:
        params["project"] = projects
    environment = settings.get("environment")
    if environment is not None:
        params["environment"] = _http.fill(str(environment), window)
    extra = settings.get("query")
    extra_text = _http.fill(str(extra), window).strip() if extra is not None else ""
    counts = []
    for enabled in (True, False):
        arm = flag_query(window.flag, enabled)
        query = f"({extra_text}) {arm}" if extra_text else arm  # AND binds the whole extra
        answer = _http.get_json(
            endpoint,
            params={**params, "query": query},
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            expected=_EXPECTED,
        )
        if not answer.ok:
            raise refused(answer)
        counts.append(_count(answer))
    return ArmCounts(with_feature=counts[0], without=counts[1])


def _count(answer: _http.Answer) -> float:
    body = answer.body
    rows = body.get("data") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        raise MetricUnavailable(
            f"{answer.status_line()} with {_http.describe(body)}, expected {_EXPECTED}"
        )
    if not rows:  # no row: no event matched
        return 0.0
    row = rows[0]
    value = row.get(_FIELD) if isinstance(row, dict) else None
    try:
        number = _http.number(value)
    except ValueError:
        number = None
    if number is None or number < 0:
        raise MetricUnavailable(
            f"{answer.url}: a row without a count in {_FIELD!r} ({_http.describe(row)}), "
            f"expected {_EXPECTED}"
        )
    return number
