"""A release's monitoring schedule in production, and calendar feed links.

GET    /projects/{p}/releases/{key}/schedule      the schedule as JSON
GET    /projects/{p}/releases/{key}/schedule.ics  the same as iCalendar (text/calendar)
GET    /projects/{p}/calendar-feeds               the project's feed links (never a token)
POST   /projects/{p}/calendar-feeds               {"name"}: a secret address, shown once
DELETE /projects/{p}/calendar-feeds/{id}          by whoever made it, or a token manager
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Response
from pydantic import BaseModel, Field

from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayRead, ServicesDep
from shipwise.server.api.schemas import ProjectKey, ReleaseKey, StrictBody, errors
from shipwise.server.ports.calendar_feeds import CalendarFeedRecord
from shipwise.server.services.calendar_feeds import MAX_NAME
from shipwise.server.services.schedule_ics import calendar_document
from shipwise.server.services.schedules import ReleaseSchedule

router = admin_router("schedules")

FeedId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The feed link's id")]


class WindowOut(BaseModel):
    kind: str = Field(description="step, close-watch or bake")
    step: int = Field(description="The step's number, from 1")
    title: str
    starts: str
    ends: str
    estimated: bool = Field(description="A forecast: the plan has not reached it")
    state: str = Field(description="done, now, ahead or cancelled")
    description: str


class ScheduleOut(BaseModel):
    release: str
    environment: str
    source: str = Field(description="Which plan the schedule comes from, in words")
    plan: int | None
    estimated: bool
    status: str | None = Field(description="The running plan's status")
    starts: str
    ends: str
    cadence: str
    watchers: list[str]
    windows: list[WindowOut]
    url: str
    ics_url: str

    @classmethod
    def of(cls, found: ReleaseSchedule) -> ScheduleOut:
        sched = found.schedule
        return cls(
            release=found.release.key,
            environment=found.environment,
            source=found.source,
            plan=found.plan_id,
            estimated=sched.estimated,
            status=None if sched.status is None else sched.status.value,
            starts=sched.starts.isoformat(),
            ends=sched.ends.isoformat(),
            cadence=sched.cadence,
            watchers=list(sched.watchers),
            windows=[
                WindowOut(
                    kind=w.kind.value,
                    step=w.step + 1,
                    title=w.title,
                    starts=w.starts.isoformat(),
                    ends=w.ends.isoformat(),
                    estimated=w.estimated,
                    state=w.state.value,
                    description=w.description,
                )
                for w in sched.windows
            ],
            url=found.url,
            ics_url=found.ics_url,
        )


class FeedIn(StrictBody):
    name: str | None = Field(
        default=None, max_length=MAX_NAME, description="Whose calendar it is; default: yours"
    )


class FeedOut(BaseModel):
    id: int
    name: str
    created_by: str
    created_at: str
    revoked_at: str | None

    @classmethod
    def of(cls, feed: CalendarFeedRecord) -> FeedOut:
        return cls(
            id=feed.id,
            name=feed.name,
            created_by=feed.created_by,
            created_at=feed.created_at.isoformat(),
            revoked_at=None if feed.revoked_at is None else feed.revoked_at.isoformat(),
        )


class CreatedFeedOut(FeedOut):
    url: str = Field(description="The secret address to subscribe to; shown only now")


@router.get(
    "/projects/{project}/releases/{key}/schedule",
    summary="A release's monitoring schedule in production",
    responses=errors(404, 409),
)
def get_schedule(
    project: ProjectKey, key: ReleaseKey, services: ServicesDep, who: MayRead
) -> ScheduleOut:
    return ScheduleOut.of(services.schedules.for_release(who, project, key))


@router.get(
    "/projects/{project}/releases/{key}/schedule.ics",
    summary="A release's monitoring schedule as iCalendar",
    response_class=Response,
    responses={**errors(404, 409), 200: {"content": {"text/calendar": {}}}},
)
def get_schedule_ics(
    project: ProjectKey, key: ReleaseKey, services: ServicesDep, who: MayRead
) -> Response:
    found = services.schedules.for_release(who, project, key)
    name = f"{found.release.key} ({found.release.title}): monitoring schedule"
    document = calendar_document([found], name, services.store.now())
    return Response(document, media_type="text/calendar; charset=utf-8")


@router.get(
    "/projects/{project}/calendar-feeds", summary="Calendar feed links", responses=errors(404)
)
def list_feeds(project: ProjectKey, services: ServicesDep, who: MayRead) -> list[FeedOut]:
    return [FeedOut.of(feed) for feed in services.calendar_feeds.list(who, project)]


@router.post(
    "/projects/{project}/calendar-feeds",
    summary="Make a calendar feed link (its address is shown once)",
    status_code=201,
    responses=errors(404),
)
def create_feed(
    project: ProjectKey, body: FeedIn, services: ServicesDep, who: MayRead
) -> CreatedFeedOut:
    created = services.calendar_feeds.create(who, project, body.name)
    return CreatedFeedOut(**FeedOut.of(created.feed).model_dump(), url=created.url)


@router.delete(
    "/projects/{project}/calendar-feeds/{feed}",
    summary="Revoke a calendar feed link",
    responses=errors(403, 404),
)
def revoke_feed(project: ProjectKey, feed: FeedId, services: ServicesDep, who: MayRead) -> FeedOut:
    return FeedOut.of(services.calendar_feeds.revoke(who, project, feed))
