"""What the pulled metric sources share: settings checks, placeholders, one JSON GET.

Placeholders: a setting may name the check it serves as ``{flag}``, ``{environment}`` or
``{project}``, filled from the ``MetricWindow``. Only braces around a bare name count as a
placeholder, so PromQL's label braces (``{job="api"}``) and regex counts (``{2,3}``) are
left alone; any other bare name (``{flags}``) is refused when the definition is saved.

Errors: ``get_json`` turns every failure of the request (refused, timed out, not JSON)
into ``MetricUnavailable`` whose message names the URL (without its query string and
credentials) and what was expected. Header values and tokens never appear in messages.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from shipwise.server.outbound_tls import client_context
from shipwise.server.ports import MetricUnavailable, MetricWindow

Problem = tuple[str, str]

PLACEHOLDERS = ("flag", "environment", "project")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"[\x20-\x7e\t]*")
_SNIPPET = 200


def unknown_settings(settings: Mapping[str, Any], known: tuple[str, ...]) -> list[Problem]:
    return [
        (str(name), f"unknown setting; the settings are {', '.join(known)}")
        for name in settings
        if name not in known
    ]


def placeholder_problems(field: str, text: str) -> list[Problem]:
    known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
    return [
        (field, f"unknown placeholder {{{name}}}: write one of {known}")
        for name in dict.fromkeys(_PLACEHOLDER.findall(text))
        if name not in PLACEHOLDERS
    ]


def has_placeholder(text: str) -> bool:
    return _PLACEHOLDER.search(text) is not None


def fill(text: str, window: MetricWindow, escape: Callable[[str], str] = str) -> str:
    """``text`` with its placeholders replaced by the window's values, each escaped."""
    values = {"flag": window.flag, "environment": window.environment, "project": window.project}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return escape(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(replace, text)


def text_problems(settings: Mapping[str, Any], field: str, *, required: bool) -> list[Problem]:
    """A non-empty string, if given (or if ``required``), with known placeholders only."""
    value = settings.get(field)
    if value is None:
        return [(field, "required")] if required else []
    if not isinstance(value, str) or not value.strip():
        return [(field, f"write a non-empty text, not {describe(value)}")]
    return placeholder_problems(field, value)


def url_problems(settings: Mapping[str, Any], field: str, *, required: bool) -> list[Problem]:
    """An absolute http(s) URL, if given (or if ``required``)."""
    problems = text_problems(settings, field, required=required)
    value = settings.get(field)
    if problems or value is None:
        return problems
    example = _PLACEHOLDER.sub("x", value)
    try:
        url = httpx.URL(example)
    except httpx.InvalidURL as error:
        return [(field, f"not a URL ({error}); write e.g. https://metrics.example.com/path")]
    if url.scheme not in ("http", "https") or not url.host:
        return [(field, "write an absolute http:// or https:// URL, e.g. https://host:9090")]
    if any(character.isspace() for character in value):
        return [(field, "a URL has no spaces; write %20 for a space")]
    return []


def headers_problems(settings: Mapping[str, Any], field: str = "headers") -> list[Problem]:
    """An optional mapping of HTTP header names to printable ASCII values."""
    headers = settings.get(field)
    if headers is None:
        return []
    if not isinstance(headers, Mapping):
        return [(field, f"write a mapping of header names to values, not {describe(headers)}")]
    problems: list[Problem] = []
    for name, value in headers.items():
        where = f"{field}.{name}"
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            problems.append((where, "a header name is letters, digits and -, e.g. X-Api-Key"))
        elif not isinstance(value, str):
            problems.append((where, f"write the header's value as text, not {describe(value)}"))
        elif not _HEADER_VALUE.fullmatch(value):
            problems.append((where, "a header value is printable ASCII on one line"))
        else:
            problems.extend(placeholder_problems(where, value))
    return problems


def filled_headers(settings: Mapping[str, Any], window: MetricWindow) -> dict[str, str]:
    headers = settings.get("headers") or {}
    return {str(name): fill(str(value), window) for name, value in headers.items()}


def unavailable_if(problems: list[Problem], what: str) -> None:
    """Refuse to read with settings that would not be accepted today (saved earlier)."""
    if problems:
        listed = "; ".join(f"{field}: {message}" for field, message in problems)
        raise MetricUnavailable(f"the {what} metric's settings are wrong: {listed}")


def shown(url: httpx.URL | str) -> str:
    """A URL as messages show it: no credentials, no query string."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(username=None, password=None, query=None, fragment=None))


@dataclass(frozen=True, slots=True)
class Answer:
    """A response whose body was JSON."""

    url: str  # as ``shown``
    status: int
    reason: str
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def status_line(self) -> str:
        return f"{self.url} answered {self.status} {self.reason}".rstrip()

    def body_snippet(self) -> str:
        return snippet(json.dumps(self.body))


def get_json(
    url: str,
    *,
    params: Mapping[str, str | list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float,
    expected: str,
) -> Answer:
    """GET ``url`` and parse the body as JSON, whatever the status.

    ``expected`` says in words what a good answer is ("Prometheus's JSON"), for messages.
    Raises MetricUnavailable when there is no answer or the answer is not JSON.
    """
    return _exchange("GET", url, params, headers, None, timeout, expected)


def post_json(
    url: str,
    body: Any,
    *,
    params: Mapping[str, str | list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float,
    expected: str,
) -> Answer:
    """POST ``body`` as JSON; the answer as ``get_json`` reads it."""
    return _exchange("POST", url, params, headers, body, timeout, expected)


def _exchange(
    method: str,
    url: str,
    params: Mapping[str, str | list[str]] | None,
    headers: Mapping[str, str] | None,
    body: Any,
    timeout: float,
    expected: str,
) -> Answer:
    try:
        where = shown(url)
        with httpx.Client(
            timeout=timeout, follow_redirects=False, verify=client_context()
        ) as client:
            response = client.request(method, url, params=params, headers=headers, json=body)
    except httpx.TimeoutException:
        raise MetricUnavailable(
            f"{where} did not answer within {timeout:g} s (expected {expected})"
        ) from None
    except httpx.ConnectError as error:
        raise MetricUnavailable(f"cannot connect to {where}: {error}") from None
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as error:
        raise MetricUnavailable(f"the request to {shown_or_raw(url)} failed: {error}") from None
    answer = f"{where} answered {response.status_code} {response.reason_phrase}".rstrip()
    if response.is_redirect:
        location = response.headers.get("location", "?")
        raise MetricUnavailable(
            f"{answer}, a redirect to {shown_or_raw(location)}: write that URL instead"
        )
    try:
        parsed = json.loads(response.content)
    except ValueError:
        kind = response.headers.get("content-type", "no content type")
        raise MetricUnavailable(
            f"{answer} with {kind}, not JSON (expected {expected}): {snippet(response.text)}"
        ) from None
    return Answer(where, response.status_code, response.reason_phrase, parsed)


def shown_or_raw(url: str) -> str:
    try:
        return shown(url)
    except httpx.InvalidURL:
        return repr(url[:_SNIPPET])


def snippet(text: str) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= _SNIPPET else text[:_SNIPPET] + "...")


def number(value: Any) -> float | None:
    """A finite float from a JSON number or numeric text; None for NaN and infinities.

    Raises ValueError for anything else (booleans, other text, objects, lists).
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a number: {describe(value)}")
    try:
        result = float(value)
    except ValueError:
        raise ValueError(f"not a number: {describe(value)}") from None
    return result if math.isfinite(result) else None


def describe(value: Any) -> str:
    """A value as messages describe it: its JSON type, and the value when it is short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the text {snippet(value)}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, Mapping):
        keys = ", ".join(str(key) for key in list(value)[:8])
        return f"an object (fields: {keys})" if keys else "an empty object"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return type(value).__name__


def utc_text(moment: datetime) -> str:
    """``moment`` as the APIs take it, in UTC to the second: 2026-03-02T09:00:00Z (a
    naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
