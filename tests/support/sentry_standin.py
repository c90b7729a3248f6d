"""A stand-in for Sentry's organization stats API (v2), speaking its documented wire format.

``GET /api/0/organizations/{organization}/stats_v2/`` with a bearer token, answering from
the outcomes a test ``add``s. It checks what Sentry's API reference ("Retrieve Event
Counts for an Organization (v2)") documents and answers refusals as Sentry does, with
``{"detail": "..."}``:

- 401 without a token or with another one; 404 for another organization; 403 for a
  project the organization does not have;
- 400 for a missing or unknown ``field``, a missing or unknown ``groupBy``, no
  ``category`` (as filter or group), an unknown ``category`` or ``outcome``, ``start``
  without ``end`` (or neither, nor ``statsPeriod``), a start after the end, a project id
  that is not a number, and an ``interval`` that is not a multiple of the minimum (1h as
  documented; ``minimum_interval`` lowers it, as sentry.io's servers accept 1m), larger
  than a day, not dividing a day, or making more than 1000 intervals.

Answers: ``start`` and ``end`` widened to whole intervals, ``intervals`` (one ISO time per
interval), and ``groups``, one per combination of the ``groupBy`` values that has
events, with ``by``, ``totals`` and ``series`` (no ``series`` nor ``intervals`` when
grouped by project, as documented). ``category=error`` also counts ``default`` and
``security`` events, as Sentry does.

It also takes error events (a real ``sentry_sdk`` sending to ``dsn(project)``, or a test's
``add_event``) and counts them with the Discover events API,
``GET /api/0/organizations/{organization}/events/``, applying the search's
``flags["name"]:true`` filter: see ``sentry_events.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.local_http import LocalServer, Reply, Request, local_http_server
from tests.support.sentry_events import Refused, SentryEvents

FIELDS = {"sum(quantity)": "quantity", "sum(times_seen)": "times_seen"}
GROUP_BY = ("outcome", "category", "reason", "project")
CATEGORIES = ("error", "default", "security", "transaction", "attachment", "replay", "span")
OUTCOMES = (
    "accepted",
    "filtered",
    "rate_limited",
    "invalid",
    "abuse",
    "client_discard",
    "cardinality_limited",
)
MAX_POINTS = 1000
DAY = 86400
_PERIOD = re.compile(r"(\d+)([smhdw])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class Outcome:
    at: datetime
    project: int
    quantity: int
    category: str = "error"
    outcome: str = "accepted"
    reason: str | None = None


@dataclass
class SentryStandin:
    token: str
    organization: str
    projects: tuple[int, ...]
    minimum_interval: int = 3600  # seconds; the reference documents 1h
    outcomes: list[Outcome] = field(default_factory=list)
    server: LocalServer | None = None
    events: SentryEvents = field(init=False)
    down: bool = False  # answer every request 503, as Sentry in an outage

    def __post_init__(self) -> None:
        self.events = SentryEvents({project: f"key{project}" for project in self.projects})

    def dsn(self, project: int | None = None) -> str:
        """Where a ``sentry_sdk`` client sends a project's events: its public key, here."""
        project = self.projects[0] if project is None else project
        host = self.url.removeprefix("http://")
        return f"http://{self.events.keys[project]}@{host}/{project}"

    def add_event(self, at: datetime, flags: dict[str, bool], **details: Any) -> None:
        details.setdefault("project", self.projects[0])
        self.events.add(at, flags, **details)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    @property
    def requests(self) -> list[Request]:
        assert self.server is not None
        return self.server.requests

    def add(self, at: datetime, quantity: int = 1, **details: Any) -> None:
        details.setdefault("project", self.projects[0])
        self.outcomes.append(Outcome(at=at, quantity=quantity, **details))

    def handle(self, request: Request) -> Reply:
        if self.down:
            return _detail(503, "Service Unavailable")
        intake = re.fullmatch(r"/api/([0-9]+)/envelope/", request.path)
        if intake is not None and request.method == "POST":
            return self.events.intake(int(intake.group(1)), request)
        match = re.fullmatch(r"/api/0/organizations/([^/]+)/(stats_v2|events)/", request.path)
        if match is None:
            return _detail(404, "The requested resource does not exist")
        authorization = request.headers.get("authorization")
        if authorization is None:
            return _detail(401, "Authentication credentials were not provided.")
        if authorization != f"Bearer {self.token}":
            return _detail(401, "Invalid token")
        if match.group(1) != self.organization:
            return _detail(404, "The requested resource does not exist")
        try:
            if match.group(2) == "events":
                projects = self._projects(request.query.get("project", []))
                return self.events.count(request, projects, datetime.now(UTC))
            return Reply(200, self._stats(request))
        except (_Refused, Refused) as refused:
            return _detail(refused.status, str(refused))

    def _stats(self, request: Request) -> dict[str, Any]:
        fields = request.query.get("field", [])
        if not fields:
            raise _Refused('At least one "field" is required.')
        for name in fields:
            if name not in FIELDS:
                raise _Refused(f'Invalid field: "{name}"')
        group_by = request.query.get("groupBy", [])
        if not group_by:
            raise _Refused('At least one "groupBy" is required.')
        for name in group_by:
            if name not in GROUP_BY:
                raise _Refused(f'Invalid groupBy: "{name}"')
        categories = request.query.get("category", [])
        if not categories and "category" not in group_by:
            raise _Refused("Query must have category as groupby or filter")
        for name in categories:
            if name not in CATEGORIES:
                raise _Refused(f'Invalid category: "{name}"')
        if "error" in categories:
            categories = [*categories, "default", "security"]
        outcomes = request.query.get("outcome", [])
        for name in outcomes:
            if name not in OUTCOMES:
                raise _Refused(f'Invalid outcome: "{name}"')
        projects = self._projects(request.query.get("project", []))
        interval = self._interval(request.first("interval") or "1h")
        start, end = self._range(request, interval)

        rows = [
            row
            for row in self.outcomes
            if start <= row.at < end
            and (not categories or row.category in categories)
            and (not outcomes or row.outcome in outcomes)
            and (projects is None or row.project in projects)
        ]
        points = int((end - start).total_seconds()) // interval
        intervals = [start + timedelta(seconds=interval * index) for index in range(points)]
        groups: dict[tuple[tuple[str, Any], ...], list[Outcome]] = {}
        for row in rows:
            key = tuple((name, _group_value(row, name)) for name in group_by)
            groups.setdefault(key, []).append(row)
        by_project = "project" in group_by
        answer_groups = []
        for key, members in groups.items():
            group: dict[str, Any] = {
                "by": dict(key),
                "totals": {name: _sum(members, name) for name in fields},
            }
            if not by_project:
                group["series"] = {
                    name: [
                        _sum([row for row in members if _bucket(row.at, interval) == at], name)
                        for at in intervals
                    ]
                    for name in fields
                }
            answer_groups.append(group)
        answer: dict[str, Any] = {
            "start": _iso(start),
            "end": _iso(end),
            "intervals": [_iso(at) for at in intervals],
            "groups": answer_groups,
        }
        if by_project:
            del answer["intervals"]
        return answer

    def _projects(self, raw: list[str]) -> set[int] | None:
        if not raw or raw == ["-1"]:
            return None
        try:
            wanted = {int(value) for value in raw}
        except ValueError:
            raise _Refused("Invalid project parameter. Values must be numbers.") from None
        if not wanted <= set(self.projects):
            raise _Refused("You do not have permission to perform this action.", status=403)
        return wanted

    def _interval(self, text: str) -> int:
        seconds = _seconds(text)
        if seconds is None:
            raise _Refused(f"Invalid interval: {text!r}")
        if seconds % self.minimum_interval or seconds < self.minimum_interval:
            minimum = "one hour" if self.minimum_interval == 3600 else "one minute"
            raise _Refused(
                f"The interval has to be a multiple of the minimum interval of {minimum}."
            )
        if seconds > DAY:
            raise _Refused("The interval has to be less than one day.")
        if DAY % seconds:
            raise _Refused("The interval should divide one day without a remainder.")
        return seconds

    def _range(self, request: Request, interval: int) -> tuple[datetime, datetime]:
        raw_start, raw_end, period = (
            request.first("start"),
            request.first("end"),
            request.first("statsPeriod"),
        )
        now = datetime.now(UTC)
        if raw_start or raw_end:
            if not (raw_start and raw_end):
                raise _Refused("start and end are both required")
            start, end = _parse_time(raw_start), _parse_time(raw_end)
        elif period:
            seconds = _seconds(period)
            if seconds is None:
                raise _Refused(f"Invalid statsPeriod: {period!r}")
            start, end = now - timedelta(seconds=seconds), now
        else:
            raise _Refused("start and end are both required")
        if start > end:
            raise _Refused("start must be before end")
        start = min(start, now)
        start = _bucket(start, interval)
        end = _bucket(end, interval) + (
            timedelta(seconds=interval) if _bucket(end, interval) != end else timedelta()
        )
        if (end - start).total_seconds() / interval > MAX_POINTS:
            raise _Refused(
                "Your interval and date range would create too many results. "
                "Use a larger interval, or a smaller date range."
            )
        return start, end


class _Refused(Exception):
    def __init__(self, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.status = status


def _detail(status: int, detail: str) -> Reply:
    return Reply(status, {"detail": detail})


def _seconds(text: str) -> int | None:
    match = _PERIOD.fullmatch(text)
    return int(match.group(1)) * _UNIT[match.group(2)] if match else None


def _parse_time(text: str) -> datetime:
    for pattern in (
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%dT%H:%M:%S.%fZ",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S",
    ):
        try:
            parsed = datetime.strptime(text, pattern)
        except ValueError:
            continue
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise _Refused(f"{text} is not a valid ISO8601 date query")


def _bucket(moment: datetime, interval: int) -> datetime:
    seconds = int(moment.timestamp()) // interval * interval
    return datetime.fromtimestamp(seconds, UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _group_value(row: Outcome, name: str) -> Any:
    if name == "category":
        return "error" if row.category in ("default", "security") else row.category
    return {"outcome": row.outcome, "reason": row.reason, "project": row.project}[name]


def _sum(rows: list[Outcome], field_name: str) -> int:
    if FIELDS[field_name] == "quantity":
        return sum(row.quantity for row in rows)
    return len(rows)


@contextmanager
def sentry_standin(
    token: str = "sntryu_standin-token",
    organization: str = "acme",
    projects: tuple[int, ...] = (4504112277, 4504112288),
    minimum_interval: int = 3600,
) -> Iterator[SentryStandin]:
    standin = SentryStandin(token, organization, projects, minimum_interval)
    with local_http_server(standin.handle) as server:
        standin.server = server
        yield standin
