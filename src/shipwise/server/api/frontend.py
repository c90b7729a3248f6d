"""The Unleash frontend API, so Unleash's frontend SDKs (the JavaScript proxy client, React,
iOS, Android, Flutter...) work against Shipwise unchanged: the server evaluates every flag
for one context and returns the enabled ones.

Auth is a frontend key, as ``Authorization: <key>`` or ``Bearer <key>`` (a server key is
refused with 403, as Unleash refuses client tokens here).

GET  /api/frontend                  context from the query: ``userId``, ``sessionId``,
                                    ``remoteAddress`` (default: the caller's address),
                                    ``appName``, ``environment``, ``currentTime``,
                                    ``properties[name]=value``, any other parameter a
                                    property; an unset ``sessionId`` is random, as in Unleash
POST /api/frontend                  the same, with the context as ``{"context": {...}}``
        → ``{"toggles": [{"name", "enabled": true, "variant": {"name", "enabled",
          "payload"?, "feature_enabled", "featureEnabled"}, "impressionData"}]}``, ONLY the
          flags that are on, by name; ETag (revision and request) and If-None-Match → 304
POST /api/frontend/client/metrics   a frontend SDK's counts, as Unleash's client metrics (200)
POST /api/frontend/client/register  accepted (200), not stored
GET  /api/frontend/client/features  501, as in Unleash: this API never hands out rules

Browsers call this API from other origins, so its answers carry CORS headers (any
origin: a frontend key is public by design) and ``OPTIONS`` answers the preflight.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from shipwise.engine import Variant
from shipwise.server.api.auth import FRONTEND, FrontendKey, published_for, services
from shipwise.server.api.errors import error_body
from shipwise.server.api.unleash import ClientMetrics, record
from shipwise.server.services.evaluation import (
    Evaluator,
    PerSnapshot,
    etag_matches,
    frontend_context,
)
from shipwise.server.services.snapshots import PublishedSnapshot

router = APIRouter(prefix="/api/frontend", tags=["unleash-frontend"])

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag",
}
PREFLIGHT_HEADERS = {
    **CORS_HEADERS,
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Max-Age": "86400",
}
DEFAULT_ALLOWED_HEADERS = "Authorization, Content-Type, If-None-Match, X-API-Key"


def preflight(request: Request) -> Response:
    """A CORS preflight answer allowing the headers the browser asks for."""
    asked = request.headers.get("access-control-request-headers") or DEFAULT_ALLOWED_HEADERS
    return Response(
        status_code=204, headers={**PREFLIGHT_HEADERS, "Access-Control-Allow-Headers": asked}
    )


def request_etag(published: PublishedSnapshot, request: Request, payload: bytes) -> str:
    """An ETag for an evaluation: the environment's revision, the request's context
    (``payload``: its query or body) and the caller's address (a default field)."""
    client = request.client
    digest = hashlib.blake2b(payload, digest_size=8)
    if client is not None:
        digest.update(client.host.encode())
    return f'"{published.environment_id}-{published.revision}-{digest.hexdigest()}"'


def _variant_json(variant: Variant) -> dict[str, Any]:
    out: dict[str, Any] = {"name": variant.name, "enabled": variant.enabled}
    if variant.payload is not None:
        out["payload"] = dict(variant.payload)
    out["feature_enabled"] = variant.feature_enabled
    out["featureEnabled"] = variant.feature_enabled
    return out


class _Toggles:
    """Encodes the frontend answer for one snapshot. Each flag's toggle (name, variant,
    impression data) is encoded once per variant and reused: a response is a join."""

    __slots__ = ("_encoded", "evaluator")

    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator
        self._encoded: dict[tuple[str, int], tuple[Variant, bytes]] = {}

    def _toggle(self, key: str, variant: Variant, impression_data: bool) -> bytes:
        cache_key = (key, id(variant))
        cached = self._encoded.get(cache_key)
        if cached is not None and cached[0] is variant:
            return cached[1]
        toggle = {
            "name": key,
            "enabled": True,
            "variant": _variant_json(variant),
            "impressionData": impression_data,
        }
        encoded = json.dumps(toggle, separators=(",", ":"), ensure_ascii=False).encode()
        if len(self._encoded) < 10_000:
            self._encoded[cache_key] = (variant, encoded)
        return encoded

    def encode(self, context: dict[str, Any]) -> bytes:
        parts = [
            self._toggle(profile.key, variant, profile.flag.definition.impression_data)
            for profile, variant in self.evaluator.variants(context)
            if variant.feature_enabled
        ]
        return b'{"toggles":[' + b",".join(parts) + b"]}"


_toggles: PerSnapshot[_Toggles] = PerSnapshot(lambda snapshot: _Toggles(Evaluator(snapshot)))


def _answer(
    request: Request,
    published: PublishedSnapshot,
    fields: Iterable[tuple[str, Any]],
    payload: bytes,
) -> Response:
    etag = request_etag(published, request, payload)
    headers = {"ETag": etag, "Cache-Control": "no-cache", **CORS_HEADERS}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    client = request.client
    context = frontend_context(fields, client.host if client is not None else None)
    body = _toggles.get(published.environment_id, published.engine).encode(context)
    return Response(body, media_type="application/json", headers=headers)


@router.get("", summary="The flags that are on for a context given in the query")
async def toggles(request: Request) -> Response:
    published = await published_for(request, FRONTEND)
    fields = request.query_params.items() if request.scope["query_string"] else ()
    return _answer(request, published, fields, request.scope["query_string"])


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse(error_body(400, message, "context"), 400, headers=CORS_HEADERS)


@router.post("", summary="The flags that are on for a context given in the body")
async def toggles_for_body(request: Request) -> Response:
    published = await published_for(request, FRONTEND)
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError as error:
        return _bad_request(f"the body is not JSON: {error}")
    if not isinstance(body, dict):
        return _bad_request('the body must be a JSON object: {"context": {...}}')
    context = body.get("context") or {}
    if not isinstance(context, dict):
        return _bad_request(f"context must be a JSON object, got {type(context).__name__}")
    return _answer(request, published, context.items(), raw)


@router.options("", include_in_schema=False)
@router.options("/client/metrics", include_in_schema=False)
@router.options("/client/register", include_in_schema=False)
async def frontend_preflight(request: Request) -> Response:
    return preflight(request)


@router.post("/client/metrics", summary="A frontend SDK's evaluation counts")
async def frontend_metrics(metrics: ClientMetrics, request: Request, who: FrontendKey) -> Response:
    # A write: in a worker thread, so a locked or slow database holds this request only.
    await asyncio.to_thread(record, services(request), who, metrics)
    return Response(status_code=200, headers=CORS_HEADERS)


@router.post("/client/register", summary="A frontend SDK announces itself (not stored)")
async def frontend_register(who: FrontendKey) -> Response:
    return Response(status_code=200, headers=CORS_HEADERS)


@router.get("/client/features", include_in_schema=False)
async def frontend_client_features() -> JSONResponse:
    message = "the frontend API does not support this endpoint; use GET /api/frontend"
    return JSONResponse(error_body(501, message), 501, headers=CORS_HEADERS)
