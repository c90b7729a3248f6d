"""In-app announcements for browsers, with a frontend key (as the frontend API).

GET  /api/frontend/announcements              the context in the query, as ``GET
        /api/frontend`` takes it (``userId``, ``properties[name]=value``, ...) → ``{"announcements":
        [{"id", "title", "html", "link", "startsAt", "endsAt", "flag"}]}``: those showing
        now (the server's clock) whose flag is on for that context (the environment's
        engine, as the frontend API decides) and that this ``userId`` has not dismissed.
        ``html`` is sanitised (a small allow-list, links ``rel="noopener noreferrer"``):
        put it in the page as it is.
POST /api/frontend/announcements/{id}/dismiss  ``{"userId": "..."}`` (or ``{"context":
        {"userId": ...}}``) → ``{"dismissed": true, "new": bool}``; that user no longer
        gets it, here or from the SDK.

Bounded: the body by the evaluate class (64 KiB), ``userId`` to 256 characters, ids to
32-bit integers; bad input is a 400 (a 404 for an id that is not this environment's) and
changes nothing. Every answer, errors included, carries the frontend API's CORS headers.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from shipwise.domain.announcements import Announcement, user_id_problem
from shipwise.server.api.auth import FRONTEND, authenticate_sdk, published_for, services
from shipwise.server.api.errors import error_body, service_error_response
from shipwise.server.api.frontend import CORS_HEADERS, preflight
from shipwise.server.services.errors import ServiceError
from shipwise.server.services.evaluation import frontend_context

router = APIRouter(prefix="/api/frontend/announcements", tags=["announcements"])

MAX_ID = 2**31 - 1


def _shown(announcement: Announcement) -> dict[str, Any]:
    return {
        "id": announcement.id,
        "title": announcement.title,
        "html": announcement.html,
        "link": announcement.link,
        "startsAt": announcement.starts_at.isoformat(),
        "endsAt": announcement.ends_at.isoformat(),
        "flag": announcement.flag,
    }


def _refusal(status: int, message: str, field: str | None) -> JSONResponse:
    return JSONResponse(error_body(status, message, field), status, headers=CORS_HEADERS)


def _service_refusal(error: ServiceError) -> Response:
    response = service_error_response(error)
    response.headers.update(CORS_HEADERS)
    return response


@router.get("", summary="The announcements showing to a context now")
async def announcements(request: Request) -> Response:
    try:
        published = await published_for(request, FRONTEND)
        client = request.client
        context = frontend_context(
            request.query_params.items(), client.host if client is not None else None
        )
        user_id = context.get("userId")
        if user_id is not None:
            problem = user_id_problem(user_id)
            if problem is not None:
                return _refusal(400, problem, "userId")
        engine = published.engine
        found = await asyncio.to_thread(
            services(request).announcements.showing_to,
            published.environment_id,
            user_id,
            lambda flag: engine.is_enabled(flag, context),
        )
    except ServiceError as error:
        return _service_refusal(error)
    body = {"announcements": [_shown(a) for a in found]}
    return JSONResponse(body, headers={"Cache-Control": "no-store", **CORS_HEADERS})


def _is_id(text: str) -> bool:
    # The length first: int() of a very long digit string is slow, then refused.
    return len(text) <= 10 and text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID


def _user_id_of(raw: bytes) -> tuple[str | None, str | None]:
    """The body's user id, or why there is none."""
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError as error:
        return None, f"the body is not JSON: {error}"
    if not isinstance(body, dict):
        return None, 'the body must be a JSON object: {"userId": "..."}'
    context = body.get("context")
    user_id = context.get("userId") if isinstance(context, dict) else body.get("userId")
    problem = user_id_problem(user_id)
    return (None, problem) if problem is not None else (user_id, None)


@router.post("/{announcement}/dismiss", summary="A user dismissed an announcement")
async def dismiss(announcement: str, request: Request) -> Response:
    try:
        key = await authenticate_sdk(request, FRONTEND)
        if not _is_id(announcement):
            return _refusal(404, f"no announcement {announcement[:40]!r}: ids are numbers", "id")
        user_id, problem = _user_id_of(await request.body())
        if user_id is None:
            return _refusal(400, problem or "userId is required", "userId")
        new = await asyncio.to_thread(
            services(request).announcements.dismiss, key.environment_id, int(announcement), user_id
        )
    except ServiceError as error:
        return _service_refusal(error)
    return JSONResponse({"dismissed": True, "new": new}, headers=CORS_HEADERS)


@router.options("", include_in_schema=False)
@router.options("/{announcement}/dismiss", include_in_schema=False)
async def announcements_preflight(request: Request) -> Response:
    return preflight(request)
