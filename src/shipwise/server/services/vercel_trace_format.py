"""A Vercel trace drain delivery read into request records. Pure code: a parsed JSON
document in, ``DrainRecord``s and the reasons for what was left out.

Vercel's trace drains (vercel.com/docs/drains/reference/traces) speak OTLP/HTTP: one
``ExportTraceServiceRequest`` per delivery, as JSON (``application/json``) or protobuf
(``application/x-protobuf``), signed like every drain with ``x-vercel-signature``.
Shipwise reads the JSON one only (``is_protobuf`` lets the service refuse the other,
saying which setting to change). Its shape: ``resourceSpans`` → ``scopeSpans`` →
``spans``, each span with ``kind``, ``startTimeUnixNano``/``endTimeUnixNano`` (decimal
text or numbers) and ``attributes`` (``[{"key", "value": {"stringValue" | "intValue"
...}}]``); the resource's attributes name the deployment (``vercel.deploymentId``, which
Vercel adds to every trace).

A request is a SERVER span (``kind`` 2, ``"SPAN_KIND_SERVER"``, or ``"server"`` as
Vercel's own example writes it): its duration in milliseconds, its HTTP status
(``http.response.status_code``, else the older ``http.status_code``; a span without one
keeps its duration and no status), its route (``http.route``, else ``url.path``, else
``http.target`` without its query) and its environment (OpenTelemetry's
``deployment.environment.name``, else ``deployment.environment``, which ``@vercel/otel``
sets from ``VERCEL_ENV``; Vercel documents no environment attribute of its own). Client
and internal spans are a request's inner work, and a server span whose parent is another
server span of the delivery is the same request seen again (the platform's span and the
framework's): each is left out, counted, so one request is one record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from shipwise.server.ports.vercel import REQUEST, TRACE_SPAN, DrainRecord

__all__ = ["is_protobuf", "is_trace_export", "read_trace_export"]

# The widths of the record's columns (storage/vercel_tables.py), as for the other drains.
MAX_ROUTE = 500
MAX_ID = 100
MAX_ENVIRONMENT = 63
MAX_SPAN_ID = 64  # hex trace and span ids are 32 and 16 characters
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Timestamps outside these years are a sender's bug, not an observation.
_EARLIEST = int((datetime(2000, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds()) * 10**9
_LATEST = int((datetime(2100, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds()) * 10**9
_SERVER = frozenset({2, "SPAN_KIND_SERVER", "server"})
_PROTOBUF = frozenset({"application/x-protobuf", "application/protobuf"})

_STATUS_KEYS = ("http.response.status_code", "http.status_code")
_ROUTE_KEYS = ("http.route", "url.path", "http.target")
_ENVIRONMENT_KEYS = ("deployment.environment.name", "deployment.environment")
_DEPLOYMENT_KEY = "vercel.deploymentId"
_WANTED = frozenset({*_STATUS_KEYS, *_ROUTE_KEYS, *_ENVIRONMENT_KEYS, _DEPLOYMENT_KEY})


class _Skip(Exception):
    """One span (or a part of the export holding spans) left out, for the reason given."""


def is_protobuf(content_type: str | None) -> bool:
    """Whether a delivery's ``content-type`` is OTLP's binary protobuf encoding."""
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() in _PROTOBUF


def is_trace_export(document: Any) -> bool:
    """Whether a parsed JSON document is an OTLP trace export (and not a log line)."""
    return isinstance(document, Mapping) and "resourceSpans" in document


def read_trace_export(
    document: Mapping[str, Any], room: int
) -> tuple[list[DrainRecord], Counter[str]]:
    """The request records of an export, reading at most ``room`` spans; and what was
    left out, by reason, never raising for what the export holds."""
    skipped: Counter[str] = Counter()
    servers: list[tuple[Mapping[str, Any], dict[str, Any]]] = []
    for span, resource in _spans(document, skipped):
        if room <= 0:
            skipped["beyond the records a delivery may carry"] += 1
            continue
        room -= 1
        kind = span.get("kind")
        if isinstance(kind, str) and kind.lower() == "server":
            kind = "server"
        # Only a whole number or a name is a kind: a list or object cannot be looked up
        # (unhashable), and True or 2.0 would pass for 2.
        if type(kind) not in (int, str) or kind not in _SERVER:
            skipped["not a server span (a request's inner work)"] += 1
            continue
        servers.append((span, resource))
    ids = {_ids(span)[:2] for span, _ in servers}
    records: list[DrainRecord] = []
    for span, resource in servers:
        trace, _, parent = _ids(span)
        if parent is not None and (trace, parent) in ids:
            skipped["server span inside another server span (the same request)"] += 1
            continue
        try:
            records.append(_request(span, resource))
        except _Skip as skip:
            skipped[str(skip)] += 1
    return records, skipped


def _spans(
    document: Mapping[str, Any], skipped: Counter[str]
) -> Iterator[tuple[Mapping[str, Any], dict[str, Any]]]:
    """Every span object of the export with its resource's attributes; a part that is
    not of OTLP's shape is counted once and its spans are not read."""
    for resource_spans in _list(document, "resourceSpans", skipped):
        if not isinstance(resource_spans, Mapping):
            skipped["resourceSpans item is not an object"] += 1
            continue
        resource = resource_spans.get("resource", {})
        try:
            attributes = _attributes(resource if isinstance(resource, Mapping) else None)
        except _Skip as skip:
            skipped[f"resource: {skip}"] += 1
            continue
        for scope_spans in _list(resource_spans, "scopeSpans", skipped):
            if not isinstance(scope_spans, Mapping):
                skipped["scopeSpans item is not an object"] += 1
                continue
            for span in _list(scope_spans, "spans", skipped):
                if not isinstance(span, Mapping):
                    skipped["span is not an object"] += 1
                    continue
                yield span, attributes


def _list(holder: Mapping[str, Any], key: str, skipped: Counter[str]) -> list[Any]:
    value = holder.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        skipped[f"{key} is not a list"] += 1
        return []
    return value


def _attributes(holder: Mapping[str, Any] | None) -> dict[str, Any]:
    """The attributes Shipwise reads, by key, as their OTLP ``AnyValue`` objects."""
    if holder is None:
        raise _Skip("not an object")
    raw = holder.get("attributes")
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise _Skip("attributes is not a list")
    found: dict[str, Any] = {}
    for attribute in raw:
        # An attribute Shipwise does not read may be of any shape: it is not looked at.
        key = attribute.get("key") if isinstance(attribute, Mapping) else None
        if isinstance(key, str) and key in _WANTED:  # a list or object key: unhashable
            found.setdefault(key, attribute.get("value"))
    return found


def _ids(span: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """The span's trace id, span id and parent's span id, where they are short text."""
    found = []
    for key in ("traceId", "spanId", "parentSpanId"):
        value = span.get(key)
        ok = isinstance(value, str) and 0 < len(value) <= MAX_SPAN_ID
        found.append(value if ok else None)
    return found[0], found[1], found[2]


def _request(span: Mapping[str, Any], resource: dict[str, Any]) -> DrainRecord:
    start = _nanos(span.get("startTimeUnixNano"), "startTimeUnixNano")
    end = _nanos(span.get("endTimeUnixNano"), "endTimeUnixNano")
    if end < start:
        raise _Skip("span ends before it starts")
    try:
        attributes = resource | _attributes(span)  # the span's own say wins
    except _Skip as skip:
        raise _Skip(f"span {skip}") from None
    return DrainRecord(
        REQUEST,
        _EPOCH + timedelta(microseconds=start // 1000),
        TRACE_SPAN,
        value=(end - start) / 1_000_000,
        status=_status(attributes),
        route=_route(attributes),
        deployment=_first_text(attributes, (_DEPLOYMENT_KEY,), MAX_ID),
        environment=_first_text(attributes, _ENVIRONMENT_KEYS, MAX_ENVIRONMENT),
    )


def _nanos(value: Any, what: str) -> int:
    """OTLP JSON's fixed64: decimal text, or a JSON number."""
    if isinstance(value, str) and 0 < len(value) <= 20 and value.isascii() and value.isdigit():
        nanos = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        nanos = value
    elif isinstance(value, float) and value.is_integer():  # finite: parsing refused the rest
        nanos = int(value)
    else:
        raise _Skip(f"{what} is not a whole number of nanoseconds")
    if not _EARLIEST <= nanos < _LATEST:
        raise _Skip(f"{what} out of range")
    return nanos


def _status(attributes: Mapping[str, Any]) -> int | None:
    for key in _STATUS_KEYS:
        value = attributes.get(key)
        if value is None:
            continue
        raw = value.get("intValue") if isinstance(value, Mapping) else None
        if isinstance(raw, str) and 0 < len(raw) <= 3 and raw.isascii() and raw.isdigit():
            raw = int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int) or not 100 <= raw <= 599:
            raise _Skip(f"{key} is not an HTTP status")
        return raw
    return None


def _route(attributes: Mapping[str, Any]) -> str | None:
    route = _first_text(attributes, _ROUTE_KEYS[:2], MAX_ROUTE)
    if route is None:
        target = _first_text(attributes, _ROUTE_KEYS[2:], MAX_ROUTE)
        route = target.split("?", 1)[0] or None if target else None  # it carries the query
    return route


def _first_text(attributes: Mapping[str, Any], keys: tuple[str, ...], limit: int) -> str | None:
    for key in keys:
        value = attributes.get(key)
        if value is None:
            continue
        text = value.get("stringValue") if isinstance(value, Mapping) else None
        if not isinstance(text, str):
            raise _Skip(f"{key} is not a string value")
        if len(text) > limit:
            raise _Skip(f"{key} longer than {limit} characters")
        if text:
            return text
    return None
