"""What a Vercel drain delivers, read into ``DrainRecord``s. Pure code: bytes in,
records and the reasons for what was left out.

The formats are Vercel's (vercel.com/docs/drains/reference/...): a delivery's body is a
JSON array of records, or NDJSON (one record a line); a single object is read as one
record. Four kinds are kept:

- Speed Insights (``"schema": "vercel.speed_insights.v1"``): ``metricType`` (LCP, INP,
  CLS, TTFB, FCP, FID), ``value``, ``route`` (else ``path``), ``deploymentId``,
  ``vercelEnvironment``, ``timestamp`` (ISO text).
- Web Analytics (``"schema": "vercel.analytics.v1"``): ``eventType`` ``pageview`` or
  ``event`` (then ``eventName``), ``route``/``path``, ``timestamp`` (Unix milliseconds).
- Log drains (no ``schema``): a line that carries a ``proxy`` object is a request its
  user got ``proxy.statusCode`` for; ``path`` (the function's route, e.g.
  ``/blog/[slug]``) else ``proxy.path``; ``deploymentId``, ``environment``,
  ``timestamp`` (Unix ms). Vercel's log schema has no request duration, so a log
  request carries its status only (for the 5xx share). A ``durationMs`` some forwarder
  might add is not read: it is no field Vercel sends, and durations come from traces.
- Trace drains (an OTLP JSON export, ``{"resourceSpans": ...}``): each server span is a
  request with its duration (``vercel_trace_format``), named ``TRACE_SPAN`` apart from
  the log drain's ``LOG_REQUEST`` so a request drained both ways is not counted twice.

A delivery carries at most ``MAX_RECORDS`` records: NDJSON lines past them are counted
as skipped without being parsed, so a body of tiny lines costs no more than the cap.
A record Shipwise cannot read is skipped and counted by reason, never fatal: Vercel
retries a refused delivery, and one odd record must not block the rest forever. Only
text that is not JSON at all is refused (``MalformedDelivery``), naming the line or
position, so the sender can see what broke.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shipwise.server.ports.vercel import EVENT, LOG_REQUEST, REQUEST, VITAL, DrainRecord
from shipwise.server.services.vercel_trace_format import is_trace_export, read_trace_export

SPEED_INSIGHTS, ANALYTICS = "vercel.speed_insights.v1", "vercel.analytics.v1"
VITALS = frozenset({"LCP", "INP", "CLS", "TTFB", "FCP", "FID"})
PAGEVIEW = "pageview"

# What one delivery may carry. Vercel batches a few hundred records; the body's size is
# capped before it is read (the webhook class, api/limits.py); these bound the rest.
MAX_RECORDS = 20_000
MAX_NAME = 100  # an event's name (the column's width)
MAX_ROUTE = 500
MAX_ID = 100  # a deployment id
MAX_ENVIRONMENT = 63
# Timestamps outside these years are a sender's bug, not an observation.
_EARLIEST, _LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
BEYOND = f"beyond the {MAX_RECORDS} records a delivery may carry (not read)"
# A line with something on it: counted, not parsed, past the cap.
_NON_BLANK_LINE = re.compile(r"^[^\S\n]*\S", re.MULTILINE)


class MalformedDelivery(ValueError):
    """The body is not JSON (or NDJSON); the message names where."""


@dataclass
class ParsedDelivery:
    records: list[DrainRecord] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # reason → how many


class _Skip(Exception):
    """One record left out, for the reason given."""


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _loads(text: str) -> Any:
    return json.loads(text, parse_constant=_no_constants)


def _documents(text: str) -> tuple[list[Any], int]:
    """The body's first ``MAX_RECORDS`` records, before they are read (an array's items,
    NDJSON's lines, or one object), and how many more there were."""
    stripped = text.strip()
    if not stripped:
        return [], 0
    if stripped.startswith("["):
        try:
            whole = _loads(stripped)
        except json.JSONDecodeError as problem:
            raise MalformedDelivery(
                f"body is not JSON: {problem.msg} at line {problem.lineno} column "
                f"{problem.colno} (character {problem.pos})"
            ) from None
        except ValueError as problem:
            raise MalformedDelivery(f"body is not JSON: {problem}") from None
        items = whole if isinstance(whole, list) else [whole]
        return items[:MAX_RECORDS], max(len(items) - MAX_RECORDS, 0)
    documents: list[Any] = []
    # NDJSON's lines end with "\n" (or "\r\n") only: a raw U+2028 inside a string is
    # no line break, as str.splitlines would have it.
    start, number = 0, 0
    while start < len(stripped):
        end = stripped.find("\n", start)
        end = len(stripped) if end < 0 else end
        line, number = stripped[start:end], number + 1
        if line.strip():
            if len(documents) == MAX_RECORDS:
                return documents, sum(1 for _ in _NON_BLANK_LINE.finditer(stripped, start))
            try:
                documents.append(_loads(line))
            except ValueError as problem:
                try:  # one object spread over lines (pretty-printed) is still one record
                    return [_loads(stripped)], 0
                except ValueError:
                    pass
                reason = problem.msg if isinstance(problem, json.JSONDecodeError) else problem
                raise MalformedDelivery(f"NDJSON line {number} is not JSON: {reason}") from None
        start = end + 1
    return documents, 0


def _text(record: Mapping[str, Any], key: str, limit: int) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Skip(f"{key} is not text")
    if len(value) > limit:
        raise _Skip(f"{key} longer than {limit} characters")
    return value or None


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Skip(f"{what} is not a number")
    try:
        number = float(value)
    except OverflowError:  # an integer past a float's range (10**309 and beyond)
        raise _Skip(f"{what} is too large") from None
    if not math.isfinite(number) or number < 0:
        raise _Skip(f"{what} is negative or not finite")
    return number


def _moment(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _Skip("timestamp is not an ISO time") from None
        try:  # year 1 or 9999 with an offset leaves datetime's range in UTC
            moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
        except OverflowError:
            raise _Skip("timestamp out of range") from None
    else:
        try:
            moment = datetime.fromtimestamp(_number(value, "timestamp") / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            raise _Skip("timestamp out of range") from None
    if not _EARLIEST <= moment < _LATEST:
        raise _Skip("timestamp out of range")
    return moment


def _route(record: Mapping[str, Any]) -> str | None:
    return _text(record, "route", MAX_ROUTE) or _text(record, "path", MAX_ROUTE)


def _vital(record: Mapping[str, Any]) -> DrainRecord:
    metric = record.get("metricType")
    if not isinstance(metric, str) or metric.upper() not in VITALS:
        raise _Skip("speed insights metric not one of " + ", ".join(sorted(VITALS)))
    return DrainRecord(
        VITAL,
        _moment(record.get("timestamp")),
        metric.upper(),
        value=_number(record.get("value"), "value"),
        route=_route(record),
        deployment=_text(record, "deploymentId", MAX_ID),
        environment=_text(record, "vercelEnvironment", MAX_ENVIRONMENT),
    )


def _event(record: Mapping[str, Any]) -> DrainRecord:
    kind = record.get("eventType")
    if kind == PAGEVIEW:
        name = PAGEVIEW
    elif kind == "event":
        name = _text(record, "eventName", MAX_NAME) or ""
        if not name:
            raise _Skip("custom event without an eventName")
    else:
        raise _Skip("analytics eventType not pageview or event")
    return DrainRecord(
        EVENT,
        _moment(record.get("timestamp")),
        name,
        route=_route(record),
        deployment=_text(record, "deploymentId", MAX_ID),
        environment=_text(record, "vercelEnvironment", MAX_ENVIRONMENT),
    )


def _request(record: Mapping[str, Any]) -> DrainRecord:
    proxy = record.get("proxy")
    if not isinstance(proxy, Mapping):
        raise _Skip("log line without a request (no proxy)")
    status = proxy.get("statusCode")
    if status == -1:  # Vercel's: revalidated in the background, nobody was answered
        raise _Skip("background revalidation (proxy.statusCode -1)")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise _Skip("proxy.statusCode is not an HTTP status")
    return DrainRecord(
        REQUEST,
        _moment(record.get("timestamp", proxy.get("timestamp"))),
        LOG_REQUEST,
        status=status,
        route=_text(record, "path", MAX_ROUTE) or _text(proxy, "path", MAX_ROUTE),
        deployment=_text(record, "deploymentId", MAX_ID),
        environment=_text(record, "environment", MAX_ENVIRONMENT),
    )


def _read(record: Any, seen_requests: set[str]) -> DrainRecord:
    if not isinstance(record, Mapping):
        raise _Skip("not a JSON object")
    schema = record.get("schema")
    if schema == SPEED_INSIGHTS:
        return _vital(record)
    if schema == ANALYTICS:
        return _event(record)
    if schema is not None:
        raise _Skip("schema Shipwise does not read")
    request = _request(record)
    # A request's lines (its stdout, its end) may each carry its proxy: count it once.
    request_id = record.get("requestId")
    if isinstance(request_id, str) and request_id:
        if request_id in seen_requests:
            raise _Skip("another line of a request already counted")
        seen_requests.add(request_id)
    return request


def parse_delivery(body: bytes) -> ParsedDelivery:
    """The records of a delivery's ``body``; ``MalformedDelivery`` when it is not JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as problem:
        raise MalformedDelivery(
            f"body is not UTF-8 text (byte {problem.start} cannot be read)"
        ) from None
    documents, beyond = _documents(text)
    parsed = ParsedDelivery()
    if beyond:
        parsed.skipped[BEYOND] = beyond
    seen_requests: set[str] = set()
    for document in documents:
        if is_trace_export(document):  # a trace drain's: many requests in one object
            room = MAX_RECORDS - len(parsed.records)
            records, skipped = read_trace_export(document, room)
            parsed.records += records
            parsed.skipped.update(skipped)
            continue
        try:
            parsed.records.append(_read(document, seen_requests))
        except _Skip as skip:
            parsed.skipped[str(skip)] += 1
    return parsed
