"""A stand-in for Zendesk's Search API count endpoint, speaking its documented wire format.

``GET /api/v2/search/count?query=...`` (``.json`` too) with Zendesk's API-token basic
authentication (``<email>/token:<token>``), answering ``{"count": N}`` from the tickets a
test ``add``s. It understands the part of Zendesk's search syntax Shipwise sends:
``type:ticket``, ``tags:<tag>`` (a ticket carrying that tag), ``created`` with ``>``,
``>=``, ``<``, ``<=`` and an ISO 8601 time (``...Z``) or a date, bare words and
"quoted phrases" (found in the subject or description, case-insensitive). Terms are
ANDed, as in Zendesk. Anything else it refuses with 400 rather than guessing.

Refusals as Zendesk answers them: 401 ``{"error": "Couldn't authenticate you"}`` without
or with other credentials; 400 ``{"error": "unavailable", "description": ...}`` for a
query it cannot read. ``answer_with`` makes the next answers a fixed ``Reply`` (a 429
with Retry-After, a 500, an HTML page) whatever was asked.
"""

from __future__ import annotations

import base64
import operator
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tests.support.local_http import LocalServer, Reply, Request, local_http_server

PATHS = ("/api/v2/search/count", "/api/v2/search/count.json")
_TERM = re.compile(r'"([^"]*)"|(\S+)')
_CREATED = re.compile(r"created(>=|<=|>|<|:)(\S+)")
_COMPARE = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    ":": operator.eq,
}


@dataclass(frozen=True)
class Ticket:
    created_at: datetime
    tags: tuple[str, ...] = ()
    subject: str = ""
    description: str = ""


_Test = Callable[[Ticket], bool]


@dataclass
class ZendeskStandin:
    email: str
    token: str
    tickets: list[Ticket] = field(default_factory=list)
    server: LocalServer | None = None
    answer_with: Reply | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    @property
    def requests(self) -> list[Request]:
        assert self.server is not None
        return self.server.requests

    @property
    def queries(self) -> list[str | None]:
        """The ``query`` of each request received, in order."""
        return [request.first("query") for request in self.requests]

    def add(
        self, created_at: datetime, *tags: str, subject: str = "", description: str = ""
    ) -> None:
        self.tickets.append(Ticket(created_at, tags, subject, description))

    def handle(self, request: Request) -> Reply:
        if request.path not in PATHS:
            return Reply(404, {"error": "InvalidEndpoint", "description": "Not found"})
        if request.headers.get("authorization") != self._expected_authorization():
            return Reply(401, {"error": "Couldn't authenticate you"})
        if self.answer_with is not None:
            return self.answer_with
        query = request.first("query")
        if not query:
            return _invalid("query parameter is required")
        try:
            return Reply(200, {"count": self._count(query)})
        except ValueError as error:
            return _invalid(str(error))

    def _expected_authorization(self) -> str:
        credentials = f"{self.email}/token:{self.token}".encode()
        return "Basic " + base64.b64encode(credentials).decode("ascii")

    def _count(self, query: str) -> int:
        tests = [_term_test(phrase, word) for phrase, word in _TERM.findall(query)]
        return sum(1 for ticket in self.tickets if all(test(ticket) for test in tests))


def _term_test(phrase: str, word: str) -> _Test:
    if phrase:
        return lambda ticket: phrase.lower() in _text(ticket)
    if word == "type:ticket":
        return lambda ticket: True
    if word.startswith("tags:"):
        tag = word.removeprefix("tags:").lower()
        return lambda ticket: tag in (t.lower() for t in ticket.tags)
    created = _CREATED.fullmatch(word)
    if created:
        compare, moment = _COMPARE[created.group(1)], _time(created.group(2))
        return lambda ticket: bool(compare(ticket.created_at, moment))
    if re.search(r"[:<>]", word):
        raise ValueError(f"the stand-in does not search by {word!r}")
    return lambda ticket: word.lower() in _text(ticket)


def _text(ticket: Ticket) -> str:
    return f"{ticket.subject} {ticket.description}".lower()


def _time(text: str) -> datetime:
    for pattern in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(text, pattern)
        except ValueError:
            continue
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise ValueError(f"{text!r} is not a date or time")


def _invalid(description: str) -> Reply:
    return Reply(400, {"error": "unavailable", "description": description})


@contextmanager
def zendesk_standin(
    email: str = "ops@example.com", token: str = "zd-standin-token"
) -> Iterator[ZendeskStandin]:
    standin = ZendeskStandin(email, token)
    with local_http_server(standin.handle) as server:
        standin.server = server
        yield standin
