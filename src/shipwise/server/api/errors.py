"""Every error leaves as JSON with the HTTP status, a message a person can act on, and
the field at fault: ``{"error": {"status": 422, "message": "...", "field": "..."}}``.
A database that cannot serve (full disk, lock, down) is a 503 with ``Retry-After`` and
``problem`` naming it, on every route."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from shipwise.server.ports import StorageUnavailable
from shipwise.server.services.errors import ServiceError, Unavailable

NO_ENDPOINT = "no endpoint"  # starts the 404 for a path no route serves


def error_body(status: int, message: str, field: str | None = None) -> dict[str, object]:
    return {"error": {"status": status, "message": message, "field": field}}


def _location(parts: tuple[object, ...]) -> str:
    # ("body", "strategies", 0, "name") -> "strategies[0].name"
    text = ""
    for part in parts[1:] if parts and parts[0] in {"body", "query", "path", "header"} else parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def whole_body_problem(error: RequestValidationError) -> str | None:
    """What is wrong with the body as a whole (not JSON, not an object), or None when a
    field inside it is at fault."""
    problems = error.errors()
    first: dict[str, Any] = dict(problems[0]) if problems else {}
    if first.get("type") == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "")
        return f"body: not valid JSON ({detail})"
    if tuple(first.get("loc", ())) == ("body",):
        return f"body: {first.get('msg', 'invalid')}; send a JSON object"
    return None


def service_error_response(error: ServiceError) -> JSONResponse:
    headers: dict[str, str] = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, Unavailable):
        headers["Retry-After"] = str(error.retry_after)
    body = error_body(error.status, error.message, error.field)
    body["error"].update(error.details())  # type: ignore[attr-defined]
    return JSONResponse(body, error.status, headers=headers or None)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        # Starlette's own answers (unknown route, wrong method) in the same shape.
        message = str(error.detail)
        if error.status_code == 404 and message == "Not Found":
            message = f"{NO_ENDPOINT} {request.method} {request.url.path}: check the URL"
        if error.status_code == 405:
            message += "; the Allow header lists the methods this path takes"
        return JSONResponse(
            error_body(error.status_code, message), error.status_code, headers=error.headers
        )

    @app.exception_handler(ServiceError)
    async def service_error(_request: Request, error: ServiceError) -> JSONResponse:
        return service_error_response(error)

    @app.exception_handler(StorageUnavailable)
    async def storage_unavailable(_request: Request, error: StorageUnavailable) -> JSONResponse:
        return service_error_response(Unavailable.storage(error))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        whole = whole_body_problem(error)
        if whole is not None:
            return JSONResponse(error_body(422, whole, "body"), 422)
        problems = error.errors()
        first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
        field = _location(tuple(first.get("loc", ())))
        message = "; ".join(
            f"{_location(tuple(p.get('loc', ()))) or 'body'}: {p.get('msg')}" for p in problems[:5]
        )
        return JSONResponse(error_body(422, message, field or None), 422)
