"""Email announcements of a release to its users, and the release's help-docs link.

GET   /projects/{p}/mailouts                      the project's announcements
POST  /projects/{p}/releases/{key}/mailouts       201: drafted from the release's notes
GET   /projects/{p}/mailouts/{id}                 one, with how many were sent
PATCH /projects/{p}/mailouts/{id}                 subject, body, recipients, channel;
                                                  ``version``: the one you read (409 if stale)
GET   /projects/{p}/mailouts/{id}/preview         both parts, as they will be sent
POST  /projects/{p}/mailouts/{id}/test            the dry run: to the caller or ``to``
POST  /projects/{p}/mailouts/{id}/send            to every recipient not sent yet (``limit``)
PUT   /projects/{p}/releases/{key}/help-docs      {"url": URL | null}

Drafting, editing, reading, previewing and the dry run: those who manage releases;
sending: those who manage channels. A send refused before a dry run of the current
version is a 409 saying so; so is an edit naming a version that is no longer the
current one (the error names the current version and who saved it, and nothing
changes). A channel that fails mid-way is not an error of the request:
the answer is a 200 with ``ok: false`` and what the channel said; sending again goes on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field

from shipwise.domain.access import Action
from shipwise.domain.mailout import MAX_BODY, MAX_RECIPIENTS, MAX_SUBJECT
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayManageReleases, ServicesDep, may
from shipwise.server.api.schemas import ProjectKey, ReleaseKey, StrictBody, errors
from shipwise.server.services.email_announcements import MailoutView
from shipwise.server.services.help_docs import MAX_URL
from shipwise.server.services.mailout_sending import MAX_TEST_ADDRESSES
from shipwise.server.services.principal import Principal

router = admin_router("email announcements")

MaySend = Annotated[Principal, may(Action.MANAGE_CHANNELS)]
MailoutId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The announcement's id")]
Address = Annotated[str, Field(max_length=254)]
ChannelName = Annotated[str, Field(min_length=1, max_length=63)]


class DraftIn(StrictBody):
    channel: ChannelName | None = Field(
        default=None, description="The email channel to send through; default: the only one"
    )
    recipients: list[Address] = Field(default_factory=list, max_length=MAX_RECIPIENTS)


class EditIn(StrictBody):
    subject: str | None = Field(default=None, max_length=MAX_SUBJECT * 2)
    body: str | None = Field(default=None, max_length=MAX_BODY, description="Markdown")
    recipients: list[Address] | None = Field(default=None, max_length=MAX_RECIPIENTS)
    channel: ChannelName | None = None
    version: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The version you read: a 409 naming the current one if another was "
        "saved since; omitted, the edit applies to whatever is current",
    )


class TestIn(StrictBody):
    to: list[Address] = Field(
        default_factory=list,
        max_length=MAX_TEST_ADDRESSES,
        description="Where the dry run goes; default: the caller's token name, if an address",
    )


class SendIn(StrictBody):
    limit: int | None = Field(
        default=None, ge=1, le=MAX_RECIPIENTS, description="Send to at most this many now"
    )


class HelpDocsIn(StrictBody):
    url: str | None = Field(max_length=MAX_URL, description="The help-docs page; null forgets")


class MailoutOut(BaseModel):
    id: int
    project: str
    release: str
    channel: str | None
    subject: str
    body: str
    recipients: list[str]
    status: str = Field(description="draft, tested, sending or sent")
    version: int
    tested_version: int | None
    sent: int
    refused: int
    pending: int
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: MailoutView) -> MailoutOut:
        return cls(
            id=view.id,
            project=view.project,
            release=view.release,
            channel=view.channel,
            subject=view.subject,
            body=view.body,
            recipients=list(view.recipients),
            status=view.status,
            version=view.version,
            tested_version=view.tested_version,
            sent=view.sent,
            refused=view.refused,
            pending=view.pending,
            created_by=view.created_by,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


class MailoutList(BaseModel):
    mailouts: list[MailoutOut]


class PreviewOut(BaseModel):
    subject: str
    plain: str
    html: str
    recipients: int
    status: str


class TestOut(BaseModel):
    ok: bool
    said: str
    to: list[str]
    version: int
    would_reach: int = Field(description="Recipients the real send would reach now")


class SendOut(BaseModel):
    ok: bool = Field(description="False: the channel failed and the send stopped")
    said: str
    sent_now: int
    refused_now: int
    sent: int
    refused: int
    pending: int
    status: str


class HelpDocsOut(BaseModel):
    release: str
    help_docs: str | None


@router.get(
    "/projects/{project}/mailouts",
    summary="The project's email announcements",
    responses=errors(404),
)
def list_mailouts(
    project: ProjectKey, services: ServicesDep, who: MayManageReleases
) -> MailoutList:
    return MailoutList(mailouts=[MailoutOut.of(m) for m in services.mailouts.list(who, project)])


@router.post(
    "/projects/{project}/releases/{key}/mailouts",
    status_code=201,
    summary="Draft an email announcement from the release's notes",
    responses=errors(404),
)
def draft_mailout(
    project: ProjectKey,
    key: ReleaseKey,
    body: DraftIn,
    services: ServicesDep,
    who: MayManageReleases,
) -> MailoutOut:
    view = services.mailouts.draft(
        who, project, key, channel=body.channel, recipients=body.recipients
    )
    return MailoutOut.of(view)


@router.get(
    "/projects/{project}/mailouts/{mailout}",
    summary="One email announcement",
    responses=errors(404),
)
def get_mailout(
    project: ProjectKey, mailout: MailoutId, services: ServicesDep, who: MayManageReleases
) -> MailoutOut:
    return MailoutOut.of(services.mailouts.get(who, project, mailout))


@router.patch(
    "/projects/{project}/mailouts/{mailout}",
    summary="Change an email announcement (a dry run is due again)",
    responses=errors(404, 409),
)
def edit_mailout(
    project: ProjectKey,
    mailout: MailoutId,
    body: EditIn,
    services: ServicesDep,
    who: MayManageReleases,
) -> MailoutOut:
    view = services.mailouts.edit(
        who,
        project,
        mailout,
        subject=body.subject,
        body=body.body,
        recipients=body.recipients,
        channel=body.channel,
        version=body.version,
    )
    return MailoutOut.of(view)


@router.get(
    "/projects/{project}/mailouts/{mailout}/preview",
    summary="Both parts of the message, as they will be sent",
    responses=errors(404),
)
def preview_mailout(
    project: ProjectKey, mailout: MailoutId, services: ServicesDep, who: MayManageReleases
) -> PreviewOut:
    found = services.mailouts.preview(who, project, mailout)
    return PreviewOut(
        subject=found.subject,
        plain=found.plain,
        html=found.html,
        recipients=found.recipients,
        status=found.status,
    )


@router.post(
    "/projects/{project}/mailouts/{mailout}/test",
    summary="Dry run: the exact message to the caller (or to) only",
    responses=errors(404, 409),
)
def test_mailout(
    project: ProjectKey,
    mailout: MailoutId,
    body: TestIn,
    services: ServicesDep,
    who: MayManageReleases,
) -> TestOut:
    report = services.mailout_sender.test(who, project, mailout, body.to)
    return TestOut(
        ok=report.ok,
        said=report.said,
        to=list(report.to),
        version=report.version,
        would_reach=report.would_reach,
    )


@router.post(
    "/projects/{project}/mailouts/{mailout}/send",
    summary="Send to every recipient not sent yet, each alone",
    responses=errors(404, 409),
)
def send_mailout(
    project: ProjectKey, mailout: MailoutId, body: SendIn, services: ServicesDep, who: MaySend
) -> SendOut:
    report = services.mailout_sender.send(who, project, mailout, body.limit)
    return SendOut(
        ok=report.ok,
        said=report.said,
        sent_now=report.sent_now,
        refused_now=report.refused_now,
        sent=report.sent,
        refused=report.refused,
        pending=report.pending,
        status=report.status,
    )


@router.put(
    "/projects/{project}/releases/{key}/help-docs",
    summary="Record the release's help-docs page (the help-docs gate asks major features)",
    responses=errors(404),
)
def put_help_docs(
    project: ProjectKey,
    key: ReleaseKey,
    body: HelpDocsIn,
    services: ServicesDep,
    who: MayManageReleases,
) -> HelpDocsOut:
    release = services.help_docs.record(who, project, key, body.url)
    return HelpDocsOut(release=release.key, help_docs=release.help_docs)
