"""An email announcement's own page: where it stands, its words to edit, both parts of
the message as they will be sent, the dry run and the send.

GET /projects/{p}/releases/{key}/mailouts/{id}
GET /projects/{p}/releases/{key}/mailouts/{id}/preview.html   the HTML part alone

The preview's HTML part is the message's own document (rendered from Markdown and
cleaned by the mailer with ``nh3``), shown in a sandboxed ``iframe`` (no scripts, no
same origin) from its own address, whose policy allows the inline styles an email is
made of and nothing else (no script, no image, no request): the dashboard's own policy
forbids inline styles, and a ``srcdoc`` frame would inherit it.

``show`` is also how an action answers when it did not happen: the same page re-read,
with the refusal beside its field and what was typed kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Path, Request, Response
from fastapi.responses import HTMLResponse

from shipwise.domain.mailout import MailoutStatus
from shipwise.server.bootstrap import Services
from shipwise.server.services.email_announcements import MailoutView
from shipwise.server.services.errors import NotFound
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.mailout_view import email_channels, mailout_url, may_send, state_words
from shipwise.server.web.release_page import Failure, release_url
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedIn, Viewer
from shipwise.server.web.templating import render

__all__ = ["PATH", "MailoutId", "Outcome", "form_values", "mailout_of", "router", "show"]

router = web_router()
PATH = "/projects/{project}/releases/{key}/mailouts/{mailout}"
# As the API's: an id PostgreSQL's integer holds, anything else the error page (422).
MailoutId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a dry run or a send that went through the channel but did not succeed said:
    not a refusal of the request (nothing was wrong with it), the channel's answer."""

    action: str  # "test" or "send"
    said: str


def mailout_of(
    services: Services, viewer: Viewer, project: str, key: str, mailout_id: int
) -> MailoutView:
    """The announcement, when it is release ``key``'s (the path names both)."""
    view = services.mailouts.get(viewer.principal, project, mailout_id)
    if view.release != key:
        raise NotFound(
            f"email announcement {mailout_id} is not {key}'s: its release's page lists its own"
        )
    return view


def form_values(view: MailoutView) -> dict[str, str]:
    """The saved announcement as its edit form's fields."""
    return {
        "version": str(view.version),
        "subject": view.subject,
        "body": view.body,
        "recipients": "\n".join(view.recipients),
        "channel": view.channel or "",
    }


def show(
    request: Request,
    viewer: Viewer,
    services: Services,
    project: str,
    key: str,
    mailout_id: int,
    failure: Failure | None = None,
    outcome: Outcome | None = None,
) -> Response:
    """The page as it stands now, with ``failure`` (its status) or ``outcome`` in place."""
    view = mailout_of(services, viewer, project, key, mailout_id)
    preview = services.mailouts.preview(viewer.principal, project, mailout_id)
    typed: Mapping[str, str] = {}
    if failure is not None and failure.action == "mailout-edit":
        typed = failure.values
    return render(
        request,
        "mailout.html",
        viewer,
        status=200 if failure is None else failure.error.status,
        project=project,
        nav="board",
        mailout=view,
        state=state_words(view),
        editable=view.status in (MailoutStatus.DRAFT, MailoutStatus.TESTED),
        tried=view.tested_version == view.version,
        may_send=may_send(viewer),
        preview=preview,
        channels=email_channels(services, viewer, project),
        values={**form_values(view), **typed},
        failure=failure,
        outcome=outcome,
        key=key,
        url=mailout_url(project, key, mailout_id),
        release_link=release_url(project, key),
    )


# The email's own document: its inline styles only; framed only by the dashboard.
PREVIEW_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox",
    "X-Frame-Options": "SAMEORIGIN",
}


@router.get(PATH + "/preview.html")
def mailout_preview(
    project: str, key: str, mailout: MailoutId, viewer: SignedIn, services: ServicesDep
) -> Response:
    mailout_of(services, viewer, project, key, mailout)
    preview = services.mailouts.preview(viewer.principal, project, mailout)
    return HTMLResponse(preview.html, headers=PREVIEW_HEADERS)


@router.get(PATH)
def mailout_page(
    request: Request,
    project: str,
    key: str,
    mailout: MailoutId,
    viewer: SignedIn,
    services: ServicesDep,
) -> Response:
    return show(request, viewer, services, project, key, mailout)
