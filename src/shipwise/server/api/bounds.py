"""``BoundedRequests``: the ASGI middleware that holds every request to ``limits``, before
a route reads it.

It refuses an oversized query string (414) or header block (431), then a body that is
larger than its route class allows (413: at once when Content-Length says so, or as soon
as the bytes of a chunked body pass the limit, without reading on), then JSON nested
deeper than the depth limit (400 on public routes, 422 on the admin API). Bodies within
bounds are read here, in full, and handed to the route unchanged.

Starlette's ``RequestBodyLimitMiddleware`` counts bytes too, but answers in plain text,
replaces the route's answer rather than refusing up front when Content-Length is over,
and knows one limit, not classes of routes with their own error shapes.

Every refusal is in the route's error shape: ``{"error": {...}}``, or OFREP's
``{"key"?, "errorCode", "errorDetails"}`` under ``/ofrep`` (PARSE_ERROR for depth, GENERAL
otherwise: OFREP defines no 413), with the CORS headers browsers need to read it on the
frontend and OFREP routes. A refusal that leaves body bytes unread closes the connection.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipwise.server.api.errors import error_body
from shipwise.server.api.frontend import CORS_HEADERS
from shipwise.server.api.limits import (
    DESCRIPTIONS,
    MAX_HEADER_BYTES,
    MAX_HEADER_FIELDS,
    MAX_QUERY_BYTES,
    BodyLimits,
    RouteClass,
    exceeds_depth,
    route_class,
)
from shipwise.server.services.evaluation import ErrorCode

OFREP = "/ofrep/"
OFREP_SINGLE = "/ofrep/v1/evaluate/flags/"
CORS_PREFIXES = (OFREP, "/api/frontend")
PUBLIC = frozenset({RouteClass.EVALUATE, RouteClass.REPORTS})
THREAD_FROM = 256 * 1024  # bytes: a depth check this long runs off the event loop


class Refusal(Exception):
    def __init__(self, status: int, message: str, field: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


class BoundedRequests:
    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = route_class(scope["path"])
        try:
            declared, chunked = _framing(scope)
            has_body = chunked or bool(declared)
            body = await self._read(route, declared, receive) if has_body else None
        except Refusal as refusal:
            await _refuse(scope, receive, send, refusal, close=True)
            return
        if body is None:  # no body, or the client left while sending it
            if not has_body:
                await self.app(scope, receive, send)
            return
        try:
            await self._check_depth(route, body)
        except Refusal as refusal:
            await _refuse(scope, receive, send, refusal, close=False)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(
        self, route: RouteClass, declared: int | None, receive: Receive
    ) -> bytes | None:
        """The whole body, or None when the client disconnects first; Refusal past the limit."""
        limit = self.limits.size(route)
        if declared is not None and declared > limit:
            raise _too_large(route, limit, f"{declared:,} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(route, limit, "more than that")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _check_depth(self, route: RouteClass, body: bytes) -> None:
        # A webhook's body is checked by its route, after the signature (webhooks.py).
        if route is RouteClass.WEBHOOK or not body:
            return
        depth = self.limits.depth
        if len(body) < THREAD_FROM:
            too_deep = exceeds_depth(body, depth)
        else:
            too_deep = await run_in_threadpool(exceeds_depth, body, depth)
        if too_deep:
            status = 400 if route in PUBLIC else 422
            raise Refusal(status, depth_message(depth), "body")


def depth_message(depth: int) -> str:
    return f"body: JSON nested deeper than {depth} levels; nothing was read from it"


def _too_large(route: RouteClass, limit: int, size: str) -> Refusal:
    message = (
        f"body: {size}, over the {limit:,}-byte limit for {DESCRIPTIONS[route]}; send less "
        f"(the server's operator sets it with shipwise serve --max-body {route.value}=SIZE)"
    )
    return Refusal(413, message, "body")


def _framing(scope: Scope) -> tuple[int | None, bool]:
    """The declared Content-Length (None: none, or malformed, which the HTTP server
    refuses) and whether the body is chunked, read in the one pass over the headers that
    also refuses an oversized query string (414) or header block (431)."""
    query = len(scope["query_string"])
    if query > MAX_QUERY_BYTES:
        message = (
            f"query: {query:,} bytes, over the {MAX_QUERY_BYTES:,}-byte limit; send large "
            "contexts in a POST body"
        )
        raise Refusal(414, message, "query")
    fields: list[tuple[bytes, bytes]] = scope["headers"]
    size = 0
    declared: int | None = None
    chunked = False
    for name, value in fields:
        size += len(name) + len(value)
        if name == b"content-length":
            declared = int(value) if value.isdigit() else None
        elif name == b"transfer-encoding":
            chunked = True
    if len(fields) > MAX_HEADER_FIELDS or size > MAX_HEADER_BYTES:
        message = (
            f"headers: {len(fields)} fields of {size:,} bytes, over the limit of "
            f"{MAX_HEADER_FIELDS} fields and {MAX_HEADER_BYTES:,} bytes"
        )
        raise Refusal(431, message, "headers")
    return declared, chunked


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body as one message, then the connection's own messages (a disconnect)."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _refuse(
    scope: Scope, receive: Receive, send: Send, refusal: Refusal, *, close: bool
) -> None:
    path: str = scope["path"]
    headers = dict(CORS_HEADERS) if path.startswith(CORS_PREFIXES) else {}
    if close:
        headers["Connection"] = "close"  # the unread rest of the body is not waited for
    document: dict[str, Any]
    if path.startswith(OFREP):
        code = ErrorCode.PARSE_ERROR if refusal.status == 400 else ErrorCode.GENERAL
        key = path.removeprefix(OFREP_SINGLE) if path.startswith(OFREP_SINGLE) else ""
        document = {"key": key} if key else {}
        document.update(errorCode=code, errorDetails=refusal.message)
    else:
        document = error_body(refusal.status, refusal.message, refusal.field)
    await JSONResponse(document, refusal.status, headers=headers)(scope, receive, send)
