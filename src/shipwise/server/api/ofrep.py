"""OFREP, the OpenFeature Remote Evaluation Protocol (0.3): every OpenFeature SDK with an
OFREP provider evaluates Shipwise's flags on the server.

Auth is an SDK key of the environment, server or frontend (OFREP answers are evaluated
results, which frontend keys may see): ``Authorization: Bearer <key>`` or ``X-API-Key``.

POST /ofrep/v1/evaluate/flags/{key}  ``{"context": {"targetingKey": ..., ...}}`` →
        200 ``{"key", "value"?, "reason", "variant", "metadata": {"engineReason",
        "explanation"}}``: the engine's reason, and in words for server keys only (an
        explanation quotes rules, such as allowed user ids);
        404 ``{"key", "errorCode": "FLAG_NOT_FOUND", "errorDetails"}``;
        400 PARSE_ERROR (not JSON) or INVALID_CONTEXT (a context of the wrong shape)
POST /ofrep/v1/evaluate/flags        the same context → 200 ``{"flags": [...], "metadata":
        {"environment", "revision"}}``, every flag of the environment (off ones too, so
        providers do not report them as missing); ETag (revision and context) and
        If-None-Match → 304; 400 as above, without ``key``

How values, variants and reasons are read from Shipwise's flags is in
``services.evaluation``. A flag that fails to evaluate, or whose payload does not parse,
has no ``value`` (the provider uses the code default) and reason ERROR, with
``errorCode``/``errorDetails``; in the bulk answer it is an evaluation-failure item. The
context maps to Unleash's: ``targetingKey`` is ``userId``, other attributes are properties.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

from fastapi import APIRouter, Request, Response

from shipwise.domain.access import TokenKind
from shipwise.engine import Snapshot, Variant
from shipwise.server.api.auth import ANY_SDK, authenticate_sdk, published_for, services
from shipwise.server.api.frontend import CORS_HEADERS, preflight
from shipwise.server.services.evaluation import (
    ERROR,
    ContextError,
    Decision,
    ErrorCode,
    Evaluator,
    Outcome,
    PerSnapshot,
    etag_matches,
    ofrep_context,
    ofrep_value,
)

router = APIRouter(prefix="/ofrep/v1", tags=["ofrep"])
JSON = "application/json"


def _json(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def _respond(status: int, document: object, headers: dict[str, str] | None = None) -> Response:
    return Response(
        _json(document), status, headers={**CORS_HEADERS, **(headers or {})}, media_type=JSON
    )


def _failure(status: int, code: ErrorCode, details: str, key: str | None = None) -> Response:
    document: dict[str, Any] = {} if key is None else {"key": key}
    document.update(errorCode=code, errorDetails=details)
    return _respond(status, document)


class BadRequest(Exception):
    def __init__(self, code: ErrorCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


def _context(raw: bytes) -> dict[str, Any]:
    """The engine's context for a request body; an empty body is an empty context."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise BadRequest(ErrorCode.PARSE_ERROR, f"the body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise BadRequest(
            ErrorCode.PARSE_ERROR, 'the body must be a JSON object: {"context": {...}}'
        )
    try:
        return ofrep_context(body.get("context"))
    except ContextError as error:
        raise BadRequest(ErrorCode.INVALID_CONTEXT, str(error)) from None


def result(outcome: Outcome) -> dict[str, Any]:
    """One evaluation as OFREP's success (or, for a failed one, failure) object."""
    value = ofrep_value(outcome)
    if value.error_code is not None:
        return {
            "key": outcome.key,
            "reason": ERROR,
            "variant": outcome.variant.name,
            "errorCode": value.error_code,
            "errorDetails": value.error or "evaluation failed",
        }
    document: dict[str, Any] = {"key": outcome.key}
    if value.present:
        document["value"] = value.value
    document["reason"] = outcome.reason
    document["variant"] = outcome.variant.name
    return document


class _Results:
    """Bulk answers for one snapshot. A flag's result depends only on its variant and
    reason, so each is encoded once and a response is a join."""

    __slots__ = ("_encoded", "evaluator", "suffix")

    def __init__(self, snapshot: Snapshot) -> None:
        self.evaluator = Evaluator(snapshot)
        self._encoded: dict[tuple[str, int, str], tuple[Variant, bytes]] = {}
        state = snapshot.state
        metadata = {"environment": state.environment, "revision": state.revision}
        self.suffix = b'],"metadata":' + _json(metadata) + b"}"

    def _item(self, decision: Decision) -> bytes:
        profile, variant, reason, outcome = decision
        cache_key = (profile.key, id(variant), reason)
        cached = self._encoded.get(cache_key)
        if cached is not None and cached[0] is variant:
            return cached[1]
        if outcome is None:
            outcome = Outcome(profile.key, variant, reason, profile.has_variants)
        encoded = _json(result(outcome))
        if reason != ERROR and len(self._encoded) < 10_000:
            self._encoded[cache_key] = (variant, encoded)
        return encoded

    def encode(self, context: dict[str, Any]) -> bytes:
        item = self._item
        items = [item(decision) for decision in self.evaluator.decide_all(context)]
        return b'{"flags":[' + b",".join(items) + self.suffix


_results: PerSnapshot[_Results] = PerSnapshot(_Results)


@router.post("/evaluate/flags", summary="Evaluate every flag for a context")
async def evaluate_flags(request: Request) -> Response:
    published = await published_for(request, ANY_SDK)
    raw = await request.body()
    digest = hashlib.blake2b(raw, digest_size=8).hexdigest()
    etag = f'"{published.environment_id}-{published.revision}-{digest}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", **CORS_HEADERS}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    try:
        context = _context(raw)
    except BadRequest as error:
        return _failure(400, error.code, error.details)
    body = _results.get(published.environment_id, published.engine).encode(context)
    return Response(body, media_type=JSON, headers=headers)


@router.post("/evaluate/flags/{key}", summary="Evaluate one flag for a context")
async def evaluate_flag(key: str, request: Request) -> Response:
    sdk_key = await authenticate_sdk(request, ANY_SDK)
    snapshots = services(request).snapshots
    published = snapshots.cached(sdk_key.environment_id)
    if published is None:  # the database, off the event loop: a lock may hold it
        published = await asyncio.to_thread(snapshots.current, sdk_key.environment_id)
    try:
        context = _context(await request.body())
    except BadRequest as error:
        return _failure(400, error.code, error.details, key)
    evaluator = _results.get(published.environment_id, published.engine).evaluator
    if not evaluator.has(key):
        where = f"{published.project}/{published.environment}"
        return _failure(
            404, ErrorCode.FLAG_NOT_FOUND, f"flag {key!r} was not found in {where}", key
        )
    outcome = evaluator.explain(key, context)
    document = result(outcome)
    metadata: dict[str, Any] = {}
    if outcome.engine_reason is not None:
        metadata["engineReason"] = outcome.engine_reason.value
    if outcome.message and sdk_key.kind is TokenKind.SERVER:
        # Explanations quote rules (user ids, constraint values): not for public keys.
        metadata["explanation"] = outcome.message
    document["metadata"] = metadata
    return _respond(200, document)


@router.options("/evaluate/flags", include_in_schema=False)
@router.options("/evaluate/flags/{key}", include_in_schema=False)
async def ofrep_preflight(request: Request) -> Response:
    return preflight(request)
