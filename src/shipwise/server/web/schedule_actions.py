"""The release page's monitoring schedule, for a calendar:

GET  /projects/{p}/releases/{key}/schedule.ics  the schedule as iCalendar, for the
                                               signed-in person (the API's route takes
                                               a bearer token, which a link cannot send)
POST /projects/{p}/releases/{key}/calendar-feeds   name (optional): a calendar feed link
                                               of the project (services.calendar_feeds
                                               .create, any member): the release page
                                               again (201) with its secret address

The address is in that one response and nowhere else, as a new token's secret on the
settings page: the page is never cached (``Cache-Control: no-store``), a reload does not
show it, and no redirect carries it in a URL. A bad name is the page again (422) with
the message beside the field; nothing made.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response

from shipwise.server.services.errors import Invalid
from shipwise.server.services.schedule_ics import calendar_document
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.release_page import Failure, show
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedIn, SignedInPost

__all__ = ["FEED_ACTION", "router"]

router = web_router()
BASE = "/projects/{project}/releases/{key}"
FEED_ACTION = "calendar-feed"  # the form's name, for a failure shown in place
FormText = Annotated[str, Form()]


@router.get(f"{BASE}/schedule.ics")
def schedule_ics(project: str, key: str, viewer: SignedIn, services: ServicesDep) -> Response:
    found = services.schedules.for_release(viewer.principal, project, key)
    name = f"{found.release.key} ({found.release.title}): monitoring schedule"
    document = calendar_document([found], name, services.store.now())
    disposition = f'attachment; filename="{found.release.key}-schedule.ics"'
    return Response(
        document,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


@router.post(f"{BASE}/calendar-feeds")
def create_feed(
    request: Request,
    project: str,
    key: str,
    viewer: SignedInPost,
    services: ServicesDep,
    name: FormText = "",
) -> Response:
    # The release first: a feed made from the page of a release that is not there would
    # be shown on no page, its address lost.
    services.releases.show(viewer.principal, project, key)
    try:
        created = services.calendar_feeds.create(viewer.principal, project, name or None)
    except Invalid as error:
        failure = Failure(FEED_ACTION, error, None, {"name": name})
        return show(request, viewer, services, project, key, failure)
    return show(request, viewer, services, project, key, feed=created)
