"""The admin API's route class: permission first, then a request body that cannot be
read at all is a 422 naming ``body``, in the API's error shape, like every other
invalid input.

FastAPI answers a body that is not UTF-8 with its own ``400 {"detail": ...}``, and one
that is not JSON (or not an object) with a validation error whose location is a
character position or nothing; neither names a field a client can act on.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException  # what FastAPI raises, not its subclass

from shipwise.server.api.auth import Permission
from shipwise.server.api.errors import error_body, whole_body_problem


def _unreadable(message: str) -> JSONResponse:
    return JSONResponse(error_body(422, message, "body"), 422)


def _permission(dependant: Dependant) -> Permission | None:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Permission):
            return dependency.call
        found = _permission(dependency)
        if found is not None:
            return found
    return None


class AdminRoute(APIRoute):
    """Every admin route declares its permission (``auth.may``), and it is checked
    before anything about the request is judged: a route without one is a programming
    error at start-up, and a body FastAPI cannot even parse (which it reports before
    resolving any dependency) waits for the permission's 403 before its 422."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        permission = _permission(self.dependant)
        if permission is None:
            name = getattr(endpoint, "__name__", repr(endpoint))
            raise TypeError(f"admin route {path} ({name}) declares no permission (auth.may)")
        self.permission = permission

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as error:
                if error.status_code != 400:
                    raise
                await run_in_threadpool(self.permission, request)
                return _unreadable("body: cannot be read as JSON; send UTF-8 JSON")
            except RequestValidationError as error:
                problem = whole_body_problem(error)
                if problem is None:
                    raise
                await run_in_threadpool(self.permission, request)
                return _unreadable(problem)

        return route


def admin_router(tag: str) -> APIRouter:
    return APIRouter(tags=[tag], route_class=AdminRoute)
