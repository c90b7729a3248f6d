"""Zendesk: how many support tickets matching a search were created during the check's window.

Settings::

    subdomain:  acme                        # https://acme.zendesk.com (or url: instead)
    url:        https://support.example.com # the account's own host, instead of subdomain
    email:      ops@example.com             # the agent the API token belongs to
    token_env:  ZENDESK_TOKEN               # the variable holding a Zendesk API token
    token:      6wiIBWbG...                 # or the token itself (stored with the metric)
    query:      tags:checkout               # tags and/or words; {flag} {environment} {project}

It asks Zendesk's Search API for a count only, ``GET <url>/api/v2/search/count?query=...``,
which answers ``{"count": N}`` without listing the tickets (the reference notes the count
is the true total even past the 1,000 results a search lists). The query sent is
``type:ticket <query> created>=<window start> created<<window end>``, times in UTC to the
second, so consecutive checks count each ticket once. Authentication is Zendesk's API-token
scheme: HTTP basic with ``<email>/token`` as the user name and the token as the password.
The reading is the count; a rate (tickets per hour) is for the guardrail templates.

Sources: Zendesk's developer reference, "Search" (the ``search/count`` endpoint, the query
syntax with ``type:``, ``tags:``, ``created`` and the ``<``/``>`` operators, and its note on
indexing) and "Security and authentication" (the ``{email}/token:{api_token}`` credentials
in a basic ``Authorization`` header).

What a user must know:

- Zendesk indexes a new ticket for search a few minutes after it is created: a check
  whose window ends now may miss the newest tickets, and they then fall before the next
  window's start and are never counted. Keep the threshold for a window of at least an
  hour, and expect the count to trail reality by those minutes.
- The query is Zendesk's own search syntax; ``type`` and ``created`` are set by Shipwise
  and may not be written in it. A value put in by a placeholder is quoted when it holds
  anything but letters, digits, ``.``, ``_`` and ``-``.
- Zendesk's rate limits (per minute, per plan) answer 429: the check's verdict is then
  "error" and the next check asks again.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from typing import Any

from shipwise.domain.guardrails import Reading
from shipwise.server.metrics import _http
from shipwise.server.metrics._token import TokenSetting
from shipwise.server.ports import MetricDefinition, MetricUnavailable, MetricWindow

__all__ = ["ZendeskSource"]

_SETTINGS = ("subdomain", "url", "email", "token", "token_env", "query")
_PATH = "/api/v2/search/count"
_SUBDOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_EMAIL = re.compile(r"[^\s@/:]+@[^\s@/:]+\.[^\s@/:]+")
# Terms Shipwise writes itself: a second ``type`` or ``created`` would change what is counted.
_RESERVED = re.compile(r"(?<![\w-])-?(type|created)\s*(:|<|>)", re.IGNORECASE)
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9._-]+")
MAX_QUERY = 1000
MAX_EMAIL = 254
MAX_TOKEN = 200
_WORDS = 300  # of Zendesk's error message, in ours
_SECRET = TokenSetting(
    "API token",
    "ZENDESK_TOKEN",
    "required: the name of an environment variable holding a Zendesk API token (Admin "
    "Center > Apps and integrations > APIs), e.g. ZENDESK_TOKEN",
    max_length=MAX_TOKEN,
)
_EXPECTED = 'Zendesk\'s search count, {"count": <number>}'


class ZendeskSource:
    """Reads a ticket count from Zendesk's Search API."""

    kind = "zendesk"

    def __init__(self, timeout: float = 5.0, environ: Mapping[str, str] | None = None) -> None:
        self.timeout = timeout
        self._environ = environ  # None: the process's environment, read at each use

    @property
    def environ(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def problems(self, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = _http.unknown_settings(settings, _SETTINGS)
        problems += _where_problems(settings)
        problems += _email_problems(settings.get("email"))
        problems += _SECRET.problems(settings, self.environ)
        problems += _query_problems(settings)
        return problems

    def read(self, definition: MetricDefinition, window: MetricWindow) -> Reading:
        settings = definition.settings
        _http.unavailable_if(self.problems(settings), f"Zendesk {definition.name!r}")
        query = search_query(str(settings["query"]), window)
        answer = _http.get_json(
            _base_url(settings) + _PATH,
            params={"query": query},
            headers={"Authorization": self._authorization(settings)},
            timeout=self.timeout,
            expected=_EXPECTED,
        )
        if not answer.ok:
            hint = _HINTS.get(answer.status, "")
            raise MetricUnavailable(f"Zendesk: {answer.status_line()}: {_error_text(answer)}{hint}")
        return Reading(_count(answer))

    def _authorization(self, settings: Mapping[str, Any]) -> str:
        """Zendesk's API-token credentials as a basic ``Authorization`` header value."""
        token = _SECRET.value(settings, self.environ)
        credentials = f"{settings['email']}/token:{token}".encode()
        return "Basic " + base64.b64encode(credentials).decode("ascii")


_HINTS = {
    400: " (Zendesk refused the search query: check query)",
    401: " (check email and the API token: token access must be on in Zendesk's Admin Center)",
    403: " (the user of email may not search tickets: use an agent's or an admin's email)",
    404: " (check subdomain or url: no Zendesk account's API there)",
    422: " (Zendesk refused the search query: check query)",
    429: " (Zendesk's rate limit: the next check asks again)",
}


def search_query(query: str, window: MetricWindow) -> str:
    """What is sent: tickets, the user's query filled in, created in [start, end)."""
    start, end = window.start, max(window.end, window.start)
    filled = _http.fill(query.strip(), window, _search_value)
    return f"type:ticket {filled} created>={_http.utc_text(start)} created<{_http.utc_text(end)}"


def _where_problems(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    subdomain, url = settings.get("subdomain"), settings.get("url")
    if subdomain is not None and url is not None:
        return [("url", "set subdomain or url, not both")]
    if url is not None:
        problems = _http.url_problems(settings, "url", required=True)
        if not problems and isinstance(url, str) and _http.has_placeholder(url):
            problems.append(("url", "write the account's URL itself, without placeholders"))
        if not problems and "/api/" in str(url):
            problems.append(
                (
                    "url",
                    "write the account's base URL, without /api/v2/...: e.g. https://acme.zendesk.com",
                )
            )
        return problems
    if subdomain is None:
        return [("subdomain", "required: the account's subdomain, acme for acme.zendesk.com")]
    if not isinstance(subdomain, str) or not _SUBDOMAIN.fullmatch(subdomain):
        return [
            (
                "subdomain",
                "write the account's subdomain, e.g. acme for acme.zendesk.com: lower-case "
                "letters, digits and -, at most 63",
            )
        ]
    return []


def _email_problems(email: Any) -> list[tuple[str, str]]:
    if email is None:
        return [("email", "required: the email address of the agent the API token belongs to")]
    if not isinstance(email, str) or len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email):
        return [("email", "write an email address, e.g. ops@example.com")]
    return []


def _query_problems(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems = _http.text_problems(settings, "query", required=True)
    query = settings.get("query")
    if problems or not isinstance(query, str):
        return problems
    if len(query) > MAX_QUERY:
        return [("query", f"write at most {MAX_QUERY} characters, not {len(query)}")]
    if any(ord(character) < 0x20 for character in query):
        return [("query", "write the search on one line, without control characters")]
    reserved = _RESERVED.search(query)
    if reserved:
        return [
            (
                "query",
                f"leave out {reserved.group(1).lower()}: Shipwise adds type:ticket and the "
                "window's created>= and created< itself; write tags or words, e.g. tags:checkout",
            )
        ]
    return []


def _base_url(settings: Mapping[str, Any]) -> str:
    url = settings.get("url")
    if url is not None:
        return str(url).rstrip("/")
    return f"https://{settings['subdomain']}.zendesk.com"


def _search_value(value: str) -> str:
    """A placeholder's value as one search term: quoted (a phrase) unless it is plain."""
    if _PLAIN_VALUE.fullmatch(value):
        return value
    return '"' + " ".join(value.replace('"', " ").split()) + '"'


def _error_text(answer: _http.Answer) -> str:
    """Zendesk's words: ``{"error": "..."}`` or ``{"error": {"title", "message"}}`` and
    sometimes a ``description``; else the body itself."""
    body = answer.body
    if not isinstance(body, dict):
        return answer.body_snippet()
    error, description = body.get("error"), body.get("description")
    if isinstance(error, dict):
        words = [error.get("title"), error.get("message")]
    else:
        words = [error, description]
    text = ": ".join(word.strip() for word in words if isinstance(word, str) and word.strip())
    return text[:_WORDS] if text else answer.body_snippet()


def _count(answer: _http.Answer) -> float:
    body = answer.body
    count = body.get("count") if isinstance(body, dict) else None
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise MetricUnavailable(
            f"{answer.status_line()} with {_http.describe(body)}, expected {_EXPECTED}: "
            "is url the account's base URL?"
        )
    return float(count)
