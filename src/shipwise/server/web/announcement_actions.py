"""A release's in-app announcements from its page, each form calling the announcement
service the API's routes call, as the signed-in person (so roles and audit are the
API's own):

POST /projects/{p}/releases/{key}/announcements        title, body (Markdown), link,
                                                       flag, environment, starts_at,
                                                       ends_at: services.announcements
                                                       .create (releasers)
POST …/announcements/{id}/end                          .end: nobody sees it from now on
POST …/announcements/{id}/remove                       .remove: it and its dismissals
                                                       (both: anyone who may write flags,
                                                       as showing fewer users is one step)

Times are typed as people write them on a page that shows UTC: a date and time without
a zone is UTC ("2027-03-01 09:00"); one with a zone keeps it; a duration counts from now
(the start) or from the start (the end: "7d"); an empty start is now. Done: 303 to the
release page with what happened. Invalid or refused: the release page again, unchanged,
422 or 409, the message beside its field and what was typed kept. Not allowed (the role)
or not found: the error page, 403 or 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Form, Path, Response

from shipwise.domain.access import Action
from shipwise.domain.announcements import AnnouncementDraft
from shipwise.domain.durations import parse_duration
from shipwise.server.services.errors import Forbidden, Invalid
from shipwise.server.services.principal import Principal
from shipwise.server.web.release_actions import ActionForm
from shipwise.server.web.routing import web_router
from shipwise.server.web.templating import may
from shipwise.server.web.typed_fields import TypedFields

__all__ = ["router"]

router = web_router()
BASE = "/projects/{project}/releases/{key}/announcements"
MAX_TIME_TEXT = 64  # the longest ISO time is 32 characters; more is not a time
AnnouncementId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class AnnouncementFields(TypedFields):
    """The form to add an announcement, as typed."""

    title: str = ""
    body: str = ""
    link: str = ""
    flag: str = ""
    environment: str = ""
    starts_at: str = ""
    ends_at: str = ""


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def moment(text: str, base: datetime, field: str) -> datetime:
    """``text`` as a moment in UTC: a duration after ``base``, or an ISO date or time (UTC
    when it names no zone). ``Invalid`` on ``field`` says what was expected."""
    example = "a date and time such as 2027-03-01 09:00 (UTC), or a duration such as 7d"
    if len(text) > MAX_TIME_TEXT:
        raise Invalid(f"give {example} ({len(text)} characters given)", field=field)
    try:
        return base + parse_duration(text)
    except OverflowError:
        raise Invalid(f"{text!r} is past the end of the calendar", field=field) from None
    except ValueError:
        pass
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{text!r} is not {example}", field=field) from None
    try:  # in UTC now: year 1 at +14:00 is in year 0, which no calendar here holds
        return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)
    except OverflowError:
        raise Invalid(f"{text!r} is past the end of the calendar", field=field) from None


@router.post(BASE)
def add_announcement(at: ActionForm, typed: Annotated[AnnouncementFields, Form()]) -> Response:
    # The role first, as the API's route checks it: someone who may not gets 403 before
    # any value is judged (a 422 would tell them the form was nearly right).
    if not may(at.viewer, Action.MANAGE_RELEASES.value):
        raise Forbidden(
            f"{at.viewer.principal.person} may not announce releases in project "
            f"{at.project!r}: developers, QA and release managers may"
        )

    def call(who: Principal) -> str:
        services = at.services
        environments = [e.key for e in services.projects.get(who, at.project).environments]
        if typed.environment not in environments:
            named = ", ".join(environments) or "none"
            message = f"choose one of the project's environments ({named})"
            raise Invalid(message, field="environment")
        now = services.store.now()
        starts = moment(typed.starts_at, now, "starts_at") if typed.starts_at else now
        if not typed.ends_at:
            message = "say when it stops showing, such as 7d (a week after the start)"
            raise Invalid(message, field="ends_at")
        draft = AnnouncementDraft(
            flag=typed.flag,
            title=typed.title,
            body=typed.body.replace("\r\n", "\n"),  # a browser sends a textarea's lines CRLF
            starts_at=starts,
            ends_at=moment(typed.ends_at, starts, "ends_at"),
            link=typed.link or None,
        )
        made = services.announcements.create(who, at.project, at.key, draft, typed.environment)
        when = "now" if made.starts_at <= now else f"from {_utc(made.starts_at)}"
        return (
            f"Announced “{made.title}” to users with {made.flag} on in {made.environment}, "
            f"{when} until {_utc(made.ends_at)}"
        )

    return at.act("announce", call, typed.model_dump())


@router.post(BASE + "/{announcement}/end")
def end_announcement(at: ActionForm, announcement: AnnouncementId) -> Response:
    def call(who: Principal) -> str:
        ended = at.services.announcements.end(who, at.project, at.key, announcement)
        return f"Ended “{ended.title}”: nobody sees it from now on"

    return at.act("announcement-end", call)


@router.post(BASE + "/{announcement}/remove")
def remove_announcement(at: ActionForm, announcement: AnnouncementId) -> Response:
    def call(who: Principal) -> str:
        removed = at.services.announcements.remove(who, at.project, at.key, announcement)
        return f"Removed “{removed.title}” and every user's dismissal of it"

    return at.act("announcement-remove", call)
