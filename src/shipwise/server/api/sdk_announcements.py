"""In-app announcements for server-side SDKs (a server key), which decide who sees one
themselves, with the flags they already evaluate locally.

GET  /sdk/v1/announcements                 the key's environment's announcements not yet
        ended (showing, or still to come): ``{"announcements": [{"id", "release",
        "flag", "title", "body", "html", "link", "startsAt", "endsAt"}]}``, with an ETag
        (If-None-Match → 304). The SDK shows one while its clock is in the window and its
        flag is on for the context.
GET  /sdk/v1/announcements/dismissals?userId=U   ``{"userId", "dismissed": [ids]}``: which of
        those U dismissed (here, or in a browser through the frontend API)
POST /sdk/v1/announcements/{id}/dismiss   ``{"userId": U}`` → ``{"dismissed": true, "new"}``
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shipwise.domain.announcements import MAX_USER_ID, Announcement
from shipwise.server.api.auth import ServerKey, services
from shipwise.server.services.evaluation import etag_matches

router = APIRouter(prefix="/sdk/v1/announcements", tags=["sdk"])

AnnouncementId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The announcement's id")]
UserId = Annotated[str, Query(alias="userId", min_length=1, max_length=MAX_USER_ID)]


def _for_sdk(announcement: Announcement) -> dict[str, Any]:
    return {
        "id": announcement.id,
        "release": announcement.release,
        "flag": announcement.flag,
        "title": announcement.title,
        "body": announcement.body,
        "html": announcement.html,
        "link": announcement.link,
        "startsAt": announcement.starts_at.isoformat(),
        "endsAt": announcement.ends_at.isoformat(),
    }


@router.get("", summary="The environment's announcements not yet ended")
async def announcements(
    request: Request,
    who: ServerKey,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    serving = await asyncio.to_thread(services(request).announcements.serving, who.environment_id)
    document = json.dumps(
        {"announcements": [_for_sdk(a) for a in serving.announcements]},
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    etag = f'"a{who.environment_id}-{hashlib.blake2b(document, digest_size=12).hexdigest()}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(document, media_type="application/json", headers=headers)


class Dismissals(BaseModel):
    user_id: str = Field(serialization_alias="userId")
    dismissed: list[int]


@router.get("/dismissals", summary="Which announcements a user dismissed")
async def dismissals(request: Request, who: ServerKey, user_id: UserId) -> Dismissals:
    found = await asyncio.to_thread(
        services(request).announcements.dismissals, who.environment_id, user_id
    )
    return Dismissals(user_id=user_id, dismissed=found)


class Dismissal(BaseModel):
    model_config = ConfigDict(extra="ignore")
    user_id: str = Field(alias="userId", min_length=1, max_length=MAX_USER_ID)


@router.post("/{announcement}/dismiss", summary="A user dismissed an announcement")
async def dismiss(
    announcement: AnnouncementId, body: Dismissal, request: Request, who: ServerKey
) -> dict[str, bool]:
    new = await asyncio.to_thread(
        services(request).announcements.dismiss, who.environment_id, announcement, body.user_id
    )
    return {"dismissed": True, "new": new}
