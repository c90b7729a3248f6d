"""The dashboard's route class: every page answers HTML with the browser's safety
headers, and an error a page did not handle itself is an error page, never the API's
JSON and never a traceback.

A page handles the errors it can show in place (a refused promotion, a field at fault);
what is left — an unknown project or release (404), a role that may not (403), a form
FastAPI could not read (422), a database that cannot serve (503) — reaches ``WebRoute``,
which renders ``error.html`` with the service's message and status.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from shipwise.server.ports import StorageUnavailable
from shipwise.server.services.errors import Invalid, ServiceError, Unavailable
from shipwise.server.web.templating import render

__all__ = ["SECURITY_HEADERS", "WebRoute", "error_page", "web_router"]

# Only this server's files: no inline script or style (so an injected one does nothing),
# no framing (clickjacking a Promote button), forms post only here.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # a one-time link's code never leaves in a Referer
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Cache-Control": "no-store",  # pages show who may do what: not for shared caches
}


def error_page(request: Request, error: ServiceError) -> Response:
    """``error`` as a page: its status, its message in words."""
    viewer = getattr(request.state, "viewer", None)
    response = render(request, "error.html", viewer, status=error.status, error=error)
    if isinstance(error, Unavailable):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _invalid_page(request: Request, error: RequestValidationError) -> Response:
    problems = error.errors()
    words = "; ".join(
        f"{'.'.join(str(p) for p in problem.get('loc', ())[1:]) or 'form'}: {problem.get('msg')}"
        for problem in problems[:5]
    )
    return error_page(request, Invalid(words or "the form could not be read"))


class WebRoute(APIRoute):
    """A dashboard page or form action (see the module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except ServiceError as error:
                response = error_page(request, error)
            except StorageUnavailable as error:
                response = error_page(request, Unavailable.storage(error))
            except RequestValidationError as error:
                response = _invalid_page(request, error)
            response.headers.update(SECURITY_HEADERS)
            return response

        return route


def web_router() -> APIRouter:
    """A router for dashboard pages: HTML, out of the OpenAPI schema, ``WebRoute``."""
    return APIRouter(route_class=WebRoute, include_in_schema=False)
