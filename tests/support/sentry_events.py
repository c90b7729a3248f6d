"""Sentry's error events, as the stand-in (``sentry_standin.py``) stores and counts them.

Intake: ``POST /api/{project}/envelope/`` as a real ``sentry_sdk`` sends it to a DSN
(``SentryStandin.dsn``): the ``X-Sentry-Auth`` header's ``sentry_key`` must be the
project's public key (else 401), the body an envelope (gzip or plain), and each ``event``
item is kept with its timestamp, environment, level, tags and the flag values in
``contexts.flags.values`` (the last value of a flag wins, as Sentry shows it).

Counting: ``GET /api/0/organizations/{org}/events/`` (the Discover events table, after the
stand-in checked the bearer token and organization) with ``field=count()`` (the only field
this stand-in computes; others are a 400 naming it), ``dataset`` ``errors`` or ``discover``
(the default), ``start``/``end`` (both, or ``statsPeriod``; the end is exclusive),
``project`` ids (403 for another organization's) and ``environment``. ``query`` is parsed
with Sentry's search syntax as far as a count of errors needs it: ``flags["name"]:true`` /
``false`` (also unquoted), ``level:``, ``message:`` (contains), ``environment:``, any other
``key:value`` as a tag, ``!`` negation, quoted values with ``\\"`` escapes, parentheses,
``AND`` / ``OR`` (AND binds first) and juxtaposition as AND; what it cannot parse is a
400 with ``{"detail": ...}``. The answer: ``{"data": [{"count()": n}], "meta": {"fields":
{"count()": "integer"}, "units": {"count()": null}}}``.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sentry_sdk.envelope import Envelope
from tests.support.local_http import Reply, Request

FIELD = "count()"
DATASETS = ("discover", "errors")
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<open>\() | (?P<close>\)) | (?P<op>(?:AND|OR)(?=[\s()]|$))
    | (?P<not>!)?(?P<key>flags\[(?:"(?:[^"\\]|\\.)*"|[^\]\s]+)\]|[A-Za-z_][\w.\[\]-]*)
      :(?P<value>"(?:[^"\\]|\\.)*"|[^\s()]+)
    )""",
    re.VERBOSE,
)
Match = Callable[["StoredEvent"], bool]


@dataclass(frozen=True)
class StoredEvent:
    at: datetime
    project: int
    flags: dict[str, bool]
    environment: str | None = "production"
    level: str = "error"
    message: str = ""
    tags: dict[str, str] = field(default_factory=dict)


class Refused(Exception):
    def __init__(self, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.status = status


@dataclass
class SentryEvents:
    keys: dict[int, str]  # project id -> the DSN's public key
    events: list[StoredEvent] = field(default_factory=list)

    def add(self, at: datetime, flags: dict[str, bool], project: int, **details: Any) -> None:
        self.events.append(StoredEvent(at, project, dict(flags), **details))

    def intake(self, project: int, request: Request) -> Reply:
        auth = request.headers.get("x-sentry-auth", "")
        key = re.search(r"sentry_key=([^,\s]+)", auth)
        if project not in self.keys or key is None or key.group(1) != self.keys[project]:
            return Reply(401, {"detail": "Unauthorized: invalid or missing sentry_key"})
        body = request.body
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        envelope = Envelope.deserialize(body)
        for item in envelope.items:
            event = item.payload.json if item.type == "event" else None
            if event is not None:
                self.events.append(_stored(project, event))
        return Reply(200, {"id": envelope.headers.get("event_id")})

    def count(self, request: Request, projects: set[int] | None, now: datetime) -> Reply:
        fields = request.query.get("field", [])
        if not fields:
            raise Refused("No columns selected")
        for name in fields:
            if name != FIELD:
                raise Refused(f"this stand-in computes only count(), not {name!r}")
        dataset = request.first("dataset") or "discover"
        if dataset not in DATASETS:
            raise Refused(f"{dataset} is not a valid dataset")
        start, end = _range(request, now)
        environments = request.query.get("environment", [])
        matches = _parse(request.first("query") or "")
        counted = sum(
            1
            for event in self.events
            if start <= event.at < end
            and (projects is None or event.project in projects)
            and (not environments or event.environment in environments)
            and matches(event)
        )
        return Reply(
            200,
            {
                "data": [{FIELD: counted}],
                "meta": {"fields": {FIELD: "integer"}, "units": {FIELD: None}},
            },
        )


def _stored(project: int, event: dict[str, Any]) -> StoredEvent:
    values = event.get("contexts", {}).get("flags", {}).get("values", [])
    flags = {str(value["flag"]): bool(value["result"]) for value in values}
    stamp = event.get("timestamp")
    at = (
        datetime.fromtimestamp(stamp, UTC)
        if isinstance(stamp, int | float)
        else datetime.fromisoformat(str(stamp)).astimezone(UTC)
    )
    message = event.get("message") or ""
    exceptions = event.get("exception", {}).get("values", [])
    if exceptions:
        message = f"{exceptions[-1].get('type')}: {exceptions[-1].get('value')}"
    return StoredEvent(
        at,
        project,
        flags,
        environment=event.get("environment"),
        level=event.get("level", "error"),
        message=str(message),
        tags={str(k): str(v) for k, v in (event.get("tags") or {}).items()},
    )


def _range(request: Request, now: datetime) -> tuple[datetime, datetime]:
    raw_start, raw_end, period = (
        request.first("start"),
        request.first("end"),
        request.first("statsPeriod"),
    )
    if raw_start or raw_end:
        if not (raw_start and raw_end):
            raise Refused("start and end are both required")
        start, end = _time(raw_start), _time(raw_end)
    elif period and re.fullmatch(r"\d+[mhd]", period):
        unit = {"m": 60, "h": 3600, "d": 86400}[period[-1]]
        start, end = now - timedelta(seconds=int(period[:-1]) * unit), now
    else:
        raise Refused("start and end, or statsPeriod, are required")
    if start > end:
        raise Refused("start must be before end")
    return start, end


def _time(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Refused(f"{text} is not a valid ISO8601 date query") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _parse(query: str) -> Match:
    tokens: list[re.Match[str]] = []
    position = 0
    while query[position:].strip():
        token = _TOKEN.match(query, position)
        if token is None:
            raise Refused(f"Parse error at '{query[position : position + 20]}' (column {position})")
        tokens.append(token)
        position = token.end()
    matches, rest = _or(tokens)
    if rest:
        raise Refused(f"Parse error: unexpected {rest[0].group().strip()!r}")
    return matches


def _or(tokens: list[re.Match[str]]) -> tuple[Match, list[re.Match[str]]]:
    left, tokens = _and(tokens)
    while tokens and tokens[0].group("op") == "OR":
        right, tokens = _and(tokens[1:])
        left = _either(left, right)
    return left, tokens


def _and(tokens: list[re.Match[str]]) -> tuple[Match, list[re.Match[str]]]:
    terms: list[Match] = []
    while tokens and not tokens[0].group("close") and tokens[0].group("op") != "OR":
        if tokens[0].group("op") == "AND":
            tokens = tokens[1:]
            continue
        if tokens[0].group("open"):
            inner, tokens = _or(tokens[1:])
            if not tokens or not tokens[0].group("close"):
                raise Refused("Parse error: a parenthesis is not closed")
            terms.append(inner)
            tokens = tokens[1:]
        else:
            terms.append(_filter(tokens[0]))
            tokens = tokens[1:]
    return (lambda e: all(term(e) for term in terms)), tokens


def _filter(token: re.Match[str]) -> Match:
    key, value = token.group("key"), _unquote(token.group("value"))
    negated = token.group("not") is not None
    flag = re.fullmatch(r'flags\[(?:"((?:[^"\\]|\\.)*)"|([^\]]+))\]', key)
    test: Match
    if flag:
        name = _unquote(f'"{flag.group(1)}"') if flag.group(1) is not None else flag.group(2)
        if value not in ("true", "false"):
            raise Refused(f"Invalid boolean value for {key}: {value!r}")
        test = _flag_is(name, value == "true")
    elif key == "level":
        test = lambda e: e.level == value  # noqa: E731
    elif key == "message":
        test = lambda e: value.strip("*") in e.message  # noqa: E731
    elif key == "environment":
        test = lambda e: e.environment == value  # noqa: E731
    else:
        tag = key[5:-1] if key.startswith("tags[") and key.endswith("]") else key
        test = lambda e: e.tags.get(tag) == value  # noqa: E731
    return (lambda e: not test(e)) if negated else test


def _either(left: Match, right: Match) -> Match:
    return lambda event: left(event) or right(event)


def _flag_is(name: str, enabled: bool) -> Match:
    return lambda event: event.flags.get(name) is enabled


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return str(json.loads(text)) if "\\" in text else text[1:-1]
    return text
