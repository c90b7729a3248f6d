"""The calendar feed a calendar app subscribes to, by its secret address.

GET /calendar/{token}.ics   the project's upcoming and running releases' schedules

Calendar apps cannot send an Authorization header, so the address is the secret (made
by ``POST /api/v1/projects/{p}/calendar-feeds``). A token that opens nothing (unknown,
revoked, too long, of another shape) is one 404, found by its hash in one indexed
lookup: the answer says nothing about how near a guess was.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from shipwise.server.api.auth import ServicesDep
from shipwise.server.api.schemas import errors
from shipwise.server.services.errors import NotFound

router = APIRouter(tags=["calendar"])


@router.get(
    "/calendar/{token}.ics",
    summary="A project's monitoring schedules, for a calendar app",
    response_class=Response,
    responses={**errors(404), 200: {"content": {"text/calendar": {}}}},
)
def calendar_feed(token: str, services: ServicesDep) -> Response:
    document = services.calendar_feeds.feed(token)
    if document is None:
        raise NotFound("no calendar feed at this address (revoked, or never made)")
    return Response(
        document,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )
