"""Vercel drain deliveries as Vercel sends them (vercel.com/docs/drains/reference):
Speed Insights, Web Analytics and log records, as a JSON array or NDJSON, and trace
drains' OTLP JSON exports, signed with ``x-vercel-signature`` (hex HMAC-SHA1 of the raw
body under the drain's secret)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

DRAIN_SECRET = "drain-signature-secret"


def signature(body: bytes, secret: str = DRAIN_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def signed(body: bytes, secret: str = DRAIN_SECRET) -> dict[str, str]:
    return {"x-vercel-signature": signature(body, secret), "content-type": "application/json"}


def as_array(records: Sequence[dict[str, Any]]) -> bytes:
    return json.dumps(list(records)).encode()


def as_ndjson(records: Sequence[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def vital(
    metric: str,
    value: float,
    at: datetime,
    *,
    route: str = "/blog/[slug]",
    deployment: str = "dpl_new",
    environment: str = "production",
) -> dict[str, Any]:
    return {
        "schema": "vercel.speed_insights.v1",
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "projectId": "Qmc52npNy86S8VV4Mt8a8dP1LEkRNbgosW3pBCQytkcgf2",
        "ownerId": "team_nLlpyC6REAqxydlFKbrMDlud",
        "deviceId": 12345,
        "metricType": metric,
        "value": value,
        "origin": "https://shop.example",
        "path": "/blog/hello",
        "route": route,
        "country": "US",
        "deploymentId": deployment,
        "vercelEnvironment": environment,
    }


def analytics(
    at: datetime, name: str | None = None, *, deployment: str = "dpl_new"
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "schema": "vercel.analytics.v1",
        "eventType": "pageview" if name is None else "event",
        "timestamp": int(at.timestamp() * 1000),
        "projectId": "Qmc52npNy86S8VV4Mt8a8dP1LEkRNbgosW3pBCQytkcgf2",
        "ownerId": "team_nLlpyC6REAqxydlFKbrMDlud",
        "dataSourceName": "web-analytics",
        "sessionId": 12345,
        "deviceId": 67890,
        "origin": "https://shop.example",
        "path": "/checkout",
        "route": "/checkout",
        "deploymentId": deployment,
        "vercelEnvironment": "production",
    }
    if name is not None:
        record["eventName"] = name
        record["eventData"] = json.dumps({"plan": "pro"})
    return record


def log_line(
    at: datetime,
    status: int,
    *,
    request_id: str,
    path: str = "/api/orders",
    deployment: str = "dpl_new",
) -> dict[str, Any]:
    millis = int(at.timestamp() * 1000)
    return {
        "id": f"{millis}0000",
        "deploymentId": deployment,
        "source": "lambda",
        "host": "shop-abc123.vercel.app",
        "timestamp": millis,
        "projectId": "gdufoJxB6b9b1fEqr1jUtFkyavUU",
        "level": "error" if status >= 500 else "info",
        "message": "handled",
        "entrypoint": "api/orders.js",
        "path": path,
        "type": "stdout",
        "statusCode": status,
        "requestId": request_id,
        "environment": "production",
        "proxy": {
            "timestamp": millis,
            "method": "GET",
            "scheme": "https",
            "host": "shop.example",
            "path": "/api/orders?page=2",
            "userAgent": ["Mozilla/5.0"],
            "referer": "https://shop.example/",
            "statusCode": status,
            "clientIp": "203.0.113.9",
            "region": "sfo1",
        },
    }


def otlp_attributes(values: dict[str, str | int]) -> list[dict[str, Any]]:
    """OTLP JSON's key/value list; int64 values are decimal text, as protobuf's JSON
    mapping writes them."""
    return [
        {"key": key, "value": {"stringValue": v} if isinstance(v, str) else {"intValue": str(v)}}
        for key, v in values.items()
    ]


def span(
    at: datetime,
    millis: float,
    *,
    status: int | None = 200,
    route: str | None = "/api/orders/[id]",
    kind: int | str = "SPAN_KIND_SERVER",
    span_id: str = "086e83747d0e381e",
    parent: str | None = None,
    trace_id: str = "7bba9f33312b3dbb8b2c2c62bb7abe2d",
    status_key: str = "http.response.status_code",
) -> dict[str, Any]:
    """A span as OTLP JSON writes it: nanosecond times as decimal text."""
    start = int(at.timestamp()) * 10**9 + at.microsecond * 1000
    attributes: dict[str, str | int] = {"http.request.method": "GET", "url.path": "/api/orders/7"}
    if route is not None:
        attributes["http.route"] = route
    if status is not None:
        attributes[status_key] = status
    found: dict[str, Any] = {
        "traceId": trace_id,
        "spanId": span_id,
        "name": f"GET {route}",
        "kind": kind,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + round(millis * 1_000_000)),
        "attributes": otlp_attributes(attributes),
        "status": {},
    }
    if parent is not None:
        found["parentSpanId"] = parent
    return found


def trace_export(
    spans: Sequence[dict[str, Any]],
    *,
    deployment: str = "dpl_new",
    environment: str | None = "production",
) -> dict[str, Any]:
    """An ``ExportTraceServiceRequest`` in OTLP JSON, with the resource attributes Vercel
    adds to every trace (vercel.projectId, vercel.deploymentId) and the environment
    ``@vercel/otel`` sets (deployment.environment)."""
    resource: dict[str, str | int] = {
        "service.name": "vercel-function",
        "vercel.projectId": "Qmc52npNy86S8VV4Mt8a8dP1LEkRNbgosW3pBCQytkcgf2",
        "vercel.deploymentId": deployment,
    }
    if environment is not None:
        resource["deployment.environment"] = environment
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": otlp_attributes(resource)},
                "scopeSpans": [{"scope": {"name": "vercel"}, "spans": list(spans)}],
            }
        ]
    }


def as_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()
