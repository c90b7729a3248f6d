"""What a person does to a release's email announcements from the dashboard, each a
form that calls the service the API's routes call, as the signed-in person (so the
role checks, the dry-run rule and the audit record are the API's own):

POST /projects/{p}/releases/{key}/mailouts            channel, recipients: a draft from
                                                      the notes (services.mailouts.draft)
POST …/mailouts/{id}/edit   version, subject, body,   services.mailouts.edit: a new
                            recipients, channel       version, due for a dry run again
POST …/mailouts/{id}/test   to                        services.mailout_sender.test
POST …/mailouts/{id}/send                             services.mailout_sender.send
                                                      (those who manage channels)

Done: 303 to the announcement's page with what happened in ``?done=``. Refused or
invalid: the page again (the release page for a draft), unchanged, the message beside
its field and what was typed kept (409 or 422). A dry run or a send the channel failed
is not a fault of the request: the page (200) with what the channel said. Not allowed
or not found: the error page (403, 404).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from fastapi import Form, Request, Response

from shipwise.server.bootstrap import Services
from shipwise.server.services.email_announcements import StaleMailout
from shipwise.server.services.errors import Conflict, Invalid
from shipwise.server.web import release_page
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.mailout_page import PATH, MailoutId, Outcome, mailout_of, show
from shipwise.server.web.mailout_view import mailout_url
from shipwise.server.web.release_page import Failure
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedInPost, Viewer
from shipwise.server.web.templating import MAX_FLASH, redirect_done

__all__ = ["router"]

router = web_router()
# Read as text and judged by the service, so a bad value is the page again with the
# message beside its field, not FastAPI's generic 422.
FormText = Annotated[str, Form()]
DRAFT = "/projects/{project}/releases/{key}/mailouts"


def _lines(text: str) -> list[str]:
    """A text area's lines (a browser sends CRLF); the service skips blanks and comments
    and names a bad line by its number, which is why blank lines are kept here."""
    return text.replace("\r\n", "\n").split("\n")


def _addresses(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,]+", text) if part]


def _field(error: Invalid | Conflict, to: str) -> Invalid | Conflict:
    """``error`` naming the form's field ``to`` when it names a part of it (``to[2]``)."""
    if error.field is None or error.field == to or not error.field.startswith(to):
        return error
    return type(error)(error.message, field=to)


def _flash(text: str) -> str:
    return text if len(text) <= MAX_FLASH else f"{text[: MAX_FLASH - 1]}…"


@router.post(DRAFT)
def draft(
    request: Request,
    project: str,
    key: str,
    viewer: SignedInPost,
    services: ServicesDep,
    channel: FormText = "",
    recipients: FormText = "",
) -> Response:
    try:
        view = services.mailouts.draft(
            viewer.principal,
            project,
            key,
            channel=channel.strip() or None,
            recipients=_lines(recipients),
        )
    except (Conflict, Invalid) as error:
        typed = {"channel": channel, "recipients": recipients}
        failure = Failure("mailout-draft", error, None, typed)
        return release_page.show(request, viewer, services, project, key, failure)
    done = f"Drafted email announcement #{view.id} from the notes of {key}: edit it, then try it"
    return redirect_done(mailout_url(project, key, view.id), done)


def _acting(
    request: Request,
    viewer: Viewer,
    services: Services,
    at: tuple[str, str, int],
    action: str,
    call: Callable[[], str | Outcome],
    typed: dict[str, str] | None = None,
) -> Response:
    """Run ``call``; it answers with the flash, or the channel's failure to show."""
    project, key, mailout_id = at
    mailout_of(services, viewer, project, key, mailout_id)  # 404 when not key's
    try:
        done = call()
    except (Conflict, Invalid) as error:
        failure = Failure(action, _field(error, "to"), None, typed or {})
        return show(request, viewer, services, project, key, mailout_id, failure)
    if isinstance(done, Outcome):
        return show(request, viewer, services, project, key, mailout_id, outcome=done)
    return redirect_done(mailout_url(project, key, mailout_id), _flash(done))


@router.post(f"{PATH}/edit")
def edit(
    request: Request,
    project: str,
    key: str,
    mailout: MailoutId,
    viewer: SignedInPost,
    services: ServicesDep,
    version: FormText = "",
    subject: FormText = "",
    body: FormText = "",
    recipients: FormText = "",
    channel: FormText = "",
) -> Response:
    typed = {"subject": subject, "body": body, "recipients": recipients, "channel": channel}

    opened = version.strip()
    typed["version"] = opened

    def call() -> str:
        # The service compares the version in the unit of work that saves (the row
        # locked), so an edit saved in between is never overwritten unseen.
        read = int(opened) if opened.isdecimal() and len(opened) <= 9 else 0
        try:
            saved = services.mailouts.edit(
                viewer.principal,
                project,
                mailout,
                subject=subject,
                body=body.replace("\r\n", "\n"),
                recipients=_lines(recipients),
                channel=channel.strip() or None,
                version=read,
            )
        except StaleMailout as stale:
            typed["version"] = str(stale.current)  # saving again replaces that version
            raise Conflict(
                f"version {stale.current} was saved after you opened version "
                f"{opened[:12] or '?'} (by {stale.saved_by}): what you typed is kept below; "
                "save it to replace that version, or reload the page to see it",
                field="version",
            ) from None
        if saved.version == read:
            return f"Nothing changed in email announcement #{mailout}"
        return f"Saved version {saved.version} of email announcement #{mailout}: try it again"

    return _acting(request, viewer, services, (project, key, mailout), "mailout-edit", call, typed)


@router.post(f"{PATH}/test")
def dry_run(
    request: Request,
    project: str,
    key: str,
    mailout: MailoutId,
    viewer: SignedInPost,
    services: ServicesDep,
    to: FormText = "",
) -> Response:
    def call() -> str | Outcome:
        report = services.mailout_sender.test(viewer.principal, project, mailout, _addresses(to))
        if not report.ok:
            return Outcome("test", report.said)
        return (
            f"Dry run of version {report.version} sent to {', '.join(report.to)}: it may be "
            f"sent now, to {report.would_reach} recipient(s)"
        )

    at = (project, key, mailout)
    return _acting(request, viewer, services, at, "mailout-test", call, {"to": to})


@router.post(f"{PATH}/send")
def send(
    request: Request,
    project: str,
    key: str,
    mailout: MailoutId,
    viewer: SignedInPost,
    services: ServicesDep,
) -> Response:
    def call() -> str | Outcome:
        report = services.mailout_sender.send(viewer.principal, project, mailout)
        if not report.ok:
            return Outcome("send", report.said)
        refused = f", {report.refused} refused by their mail server" if report.refused else ""
        return f"Sent email announcement #{mailout}: {report.sent} recipient(s) got it{refused}"

    return _acting(request, viewer, services, (project, key, mailout), "mailout-send", call)
