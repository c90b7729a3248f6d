"""The dashboard's route class: every page answers HTML with the browser's safety
headers, and an error a page did not handle itself is an error page, never the API's
JSON and never a traceback.

A page handles the errors it can show in place (a refused promotion, a field at fault);
what is left — an unknown project or release (404), a role that may not (403), a form
FastAPI could not read (422), a database that cannot serve (503) — reaches ``WebRoute``,
which renders ``error.html`` with the service's message and status. The sign-in
redirect (``session_auth`` raises a 303) leaves as an empty-bodied redirect with the
same headers.

A URL under the dashboard that no route serves (``/projects/p/nope``, a form action
opened with GET) never reaches a route: ``page_http_errors`` answers it at the
application's level with the same error page, while every other path (``/api/…``,
``/sdk/…``, ``/ofrep/…``) keeps the API's JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine, Iterable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from shipwise.server.ports import StorageUnavailable
from shipwise.server.services.errors import Invalid, ServiceError, Unavailable
from shipwise.server.web.session_auth import current_session, viewer_of
from shipwise.server.web.templating import render

__all__ = [
    "SECURITY_HEADERS",
    "WebRoute",
    "error_page",
    "http_error_page",
    "is_page_path",
    "page_http_errors",
    "web_router",
]

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


class _HttpError(ServiceError):
    """Starlette's own refusal (no such page, not this method) in a page's words."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _http_words(request: Request, error: HTTPException) -> str:
    path = request.url.path
    if error.status_code == 404:
        return f"There is no page at {path}: check the address, or start from the board."
    if error.status_code == 405:
        allowed = (error.headers or {}).get("Allow", "another method")
        return f"{path} does not answer {request.method} (it takes {allowed}): go back to its page."
    return str(error.detail)


def http_error_page(request: Request, error: HTTPException) -> Response:
    """Starlette's ``error`` on a dashboard URL: a redirect stays one (its ``Location``,
    an empty body), anything else is the error page; the safety headers on both."""
    if error.status_code < 400:
        response = Response(status_code=error.status_code, headers=error.headers)
    else:
        response = error_page(request, _HttpError(error.status_code, _http_words(request, error)))
        for name, value in (error.headers or {}).items():
            response.headers.setdefault(name, value)  # Allow, for a 405
    response.headers.update(SECURITY_HEADERS)
    return response


def _unrouted_page(request: Request, error: HTTPException) -> Response:
    """``http_error_page`` for a URL no route served: no dependency has read the session,
    so read it here, for the header's "Signed in as" (a database that cannot answer only
    costs that line)."""
    try:
        active = current_session(request)
    except StorageUnavailable:
        active = None
    if active is not None:
        request.state.viewer = viewer_of(active)
    return http_error_page(request, error)


def is_page_path(path: str, roots: Collection[str]) -> bool:
    """Whether ``path`` is the dashboard's: its first segment is one a page route starts
    with (``projects``, ``sign-in``, …), or it is ``/`` itself."""
    return path == "/" or path.lstrip("/").split("/", 1)[0] in roots


def page_http_errors(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Answer Starlette's errors (404, 405) on the dashboard's URLs with pages; the
    handler already installed (the API's JSON, ``api.errors``) keeps every other path.
    The pages' ``routers`` say which URLs are the dashboard's: a new page's path counts
    as soon as its router is in the list."""
    roots = {
        route.path.lstrip("/").split("/", 1)[0]
        for router in routers
        for route in router.routes
        if isinstance(route, WebRoute) and route.path != "/"
    }
    api_handler = app.exception_handlers[HTTPException]

    async def http_error(request: Request, error: Exception) -> Response:
        if isinstance(error, HTTPException) and is_page_path(request.url.path, roots):
            # The session read is a blocking database call: off the event loop.
            return await run_in_threadpool(_unrouted_page, request, error)
        answer = api_handler(request, error)
        return answer if isinstance(answer, Response) else await answer

    app.add_exception_handler(HTTPException, http_error)


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
            except HTTPException as error:  # the sign-in redirect, from ``SignedIn``
                return http_error_page(request, error)
            for name, value in SECURITY_HEADERS.items():
                # A route that sets one itself (the sandboxed email preview) keeps it.
                response.headers.setdefault(name, value)
            return response

        return route


def web_router() -> APIRouter:
    """A router for dashboard pages: HTML, out of the OpenAPI schema, ``WebRoute``."""
    return APIRouter(route_class=WebRoute, include_in_schema=False)
