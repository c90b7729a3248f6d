"""A release's in-app announcements.

GET    /projects/{p}/releases/{key}/announcements            the release's, oldest first
POST   /projects/{p}/releases/{key}/announcements            {"flag", "title", "body",
        "link"?, "starts_at", "ends_at", "environment"?} → 201; the body is Markdown, the
        answer carries its sanitised HTML. Releasers (developers, QA, release managers)
GET    /projects/{p}/releases/{key}/announcements/{id}       one
POST   /projects/{p}/releases/{key}/announcements/{id}/end   end it now (flag writers)
DELETE /projects/{p}/releases/{key}/announcements/{id}       remove it and its dismissals
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field

from shipwise.domain.announcements import (
    MAX_BODY,
    MAX_LINK,
    MAX_TITLE,
    Announcement,
    AnnouncementDraft,
)
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayManageReleases, MayRead, MayWriteFlags, ServicesDep
from shipwise.server.api.schemas import ProjectKey, ReleaseKey, StrictBody, errors
from shipwise.server.services.announcements import AnnouncementService

router = admin_router("announcements")

AnnouncementId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The announcement's id")]
BASE = "/projects/{project}/releases/{key}/announcements"


class AnnouncementIn(StrictBody):
    flag: str = Field(max_length=100, description="One of the release's flags: the audience")
    title: str = Field(description=f"One line, at most {MAX_TITLE} characters")
    body: str = Field(description=f"Markdown, at most {MAX_BODY} characters")
    link: str | None = Field(default=None, description=f"http(s), at most {MAX_LINK} chars")
    starts_at: datetime = Field(description="With a time zone; shown from then")
    ends_at: datetime = Field(description="With a time zone; shown until then (exclusive)")
    environment: str | None = Field(
        default=None, max_length=63, description="Default: the last environment (production)"
    )


class AnnouncementOut(BaseModel):
    id: int
    release: str
    environment: str
    flag: str
    title: str
    body: str = Field(description="As written (Markdown)")
    html: str = Field(description="The body rendered and sanitised: what users are shown")
    link: str | None
    starts_at: str
    ends_at: str
    state: str = Field(description="scheduled, showing or ended, by the server's clock")
    created_by: str
    created_at: str
    ended_by: str | None = Field(description="Who ended it early, if someone did")

    @classmethod
    def of(cls, announcement: Announcement, service: AnnouncementService) -> AnnouncementOut:
        return cls(
            id=announcement.id,
            release=announcement.release,
            environment=announcement.environment,
            flag=announcement.flag,
            title=announcement.title,
            body=announcement.body,
            html=announcement.html,
            link=announcement.link,
            starts_at=announcement.starts_at.isoformat(),
            ends_at=announcement.ends_at.isoformat(),
            state=service.state(announcement),
            created_by=announcement.created_by,
            created_at=announcement.created_at.isoformat(),
            ended_by=announcement.ended_by,
        )


class AnnouncementsOut(BaseModel):
    announcements: list[AnnouncementOut]


@router.get(BASE, summary="A release's in-app announcements", responses=errors(404))
def list_announcements(
    project: ProjectKey, key: ReleaseKey, services: ServicesDep, who: MayRead
) -> AnnouncementsOut:
    service = services.announcements
    found = service.of_release(who, project, key)
    return AnnouncementsOut(announcements=[AnnouncementOut.of(a, service) for a in found])


@router.post(
    BASE,
    status_code=201,
    summary="Announce the release in the app to users whose flag is on",
    responses=errors(404, 409),
)
def create_announcement(
    project: ProjectKey,
    key: ReleaseKey,
    body: AnnouncementIn,
    services: ServicesDep,
    who: MayManageReleases,
) -> AnnouncementOut:
    draft = AnnouncementDraft(
        flag=body.flag,
        title=body.title,
        body=body.body,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        link=body.link,
    )
    service = services.announcements
    created = service.create(who, project, key, draft, body.environment)
    return AnnouncementOut.of(created, service)


@router.get(f"{BASE}/{{announcement}}", summary="One announcement", responses=errors(404))
def show_announcement(
    project: ProjectKey,
    key: ReleaseKey,
    announcement: AnnouncementId,
    services: ServicesDep,
    who: MayRead,
) -> AnnouncementOut:
    service = services.announcements
    return AnnouncementOut.of(service.show(who, project, key, announcement), service)


@router.post(
    f"{BASE}/{{announcement}}/end",
    summary="End an announcement now (nobody sees it from now on)",
    responses=errors(404, 409),
)
def end_announcement(
    project: ProjectKey,
    key: ReleaseKey,
    announcement: AnnouncementId,
    services: ServicesDep,
    who: MayWriteFlags,
) -> AnnouncementOut:
    service = services.announcements
    return AnnouncementOut.of(service.end(who, project, key, announcement), service)


@router.delete(
    f"{BASE}/{{announcement}}",
    summary="Remove an announcement and its dismissals (the removed one is answered)",
    responses=errors(404),
)
def remove_announcement(
    project: ProjectKey,
    key: ReleaseKey,
    announcement: AnnouncementId,
    services: ServicesDep,
    who: MayWriteFlags,
) -> AnnouncementOut:
    service = services.announcements
    return AnnouncementOut.of(service.remove(who, project, key, announcement), service)
