"""A project's notification channels: Slack, email, the signed webhook, the log.

GET    /projects/{p}/channels              the channels (anyone on the project)
POST   /projects/{p}/channels              201: a new channel (admins, release managers)
GET    /projects/{p}/channels/{c}          one channel, by id or name
PATCH  /projects/{p}/channels/{c}          settings and secrets given replace theirs; a
                                           null removes one; the rest stay
DELETE /projects/{p}/channels/{c}          the channel removed
POST   /projects/{p}/channels/{c}/test     send a test message now; what the channel said

Secrets (webhook URLs, tokens, passwords) are write-only: an answer names the secrets
that are set (``secrets``), never their values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, Field

from shipwise.domain.access import Action
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayRead, ServicesDep, may
from shipwise.server.api.schemas import ProjectKey, StrictBody, errors
from shipwise.server.services.channels import ChannelView
from shipwise.server.services.principal import Principal

router = admin_router("channels")

MayManageChannels = Annotated[Principal, may(Action.MANAGE_CHANNELS)]
ChannelRef = Annotated[
    str,
    Path(min_length=1, max_length=63, description="The channel's id or name"),
]
KINDS = "slack, email, webhook, log or sentry-flags"


class ChannelIn(StrictBody):
    name: str = Field(min_length=1, max_length=63, description="Lowercase, e.g. releases")
    kind: str = Field(max_length=20, description=f"The channel's kind: {KINDS}")
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Public settings: slack channel, api_url; email host, port, security "
        "(starttls, tls, none), user, from, recipients",
    )
    secrets: dict[str, Any] = Field(
        default_factory=dict,
        description="Write-only: slack webhook_url or token; email password; webhook url, "
        "secret. Never returned.",
    )


class ChannelPatch(StrictBody):
    settings: dict[str, Any] | None = Field(default=None, description="Replace these; null removes")
    secrets: dict[str, Any] | None = Field(default=None, description="Replace these; null removes")


class ChannelOut(BaseModel):
    id: int
    project: str
    name: str
    kind: str
    settings: dict[str, Any]
    secrets: list[str] = Field(description="The names of the secrets that are set")
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, view: ChannelView) -> ChannelOut:
        return cls(
            id=view.id,
            project=view.project,
            name=view.name,
            kind=view.kind,
            settings=dict(view.settings),
            secrets=view.secrets,
            created_by=view.created_by,
            created_at=view.created_at,
            updated_at=view.updated_at,
            version=view.version,
        )


class ChannelList(BaseModel):
    channels: list[ChannelOut]


class TestOut(BaseModel):
    ok: bool = Field(description="Whether the channel took the message")
    said: str = Field(description="What the channel answered, or why it could not be reached")


@router.get("/projects/{project}/channels", summary="The project's channels", responses=errors(404))
def list_channels(project: ProjectKey, services: ServicesDep, who: MayRead) -> ChannelList:
    return ChannelList(channels=[ChannelOut.of(c) for c in services.channels.list(who, project)])


@router.post(
    "/projects/{project}/channels",
    status_code=201,
    summary="Add a channel",
    responses=errors(404, 409),
)
def create_channel(
    project: ProjectKey, body: ChannelIn, services: ServicesDep, who: MayManageChannels
) -> ChannelOut:
    view = services.channels.create(who, project, body.name, body.kind, body.settings, body.secrets)
    return ChannelOut.of(view)


@router.get("/projects/{project}/channels/{channel}", summary="One channel", responses=errors(404))
def get_channel(
    project: ProjectKey, channel: ChannelRef, services: ServicesDep, who: MayRead
) -> ChannelOut:
    return ChannelOut.of(services.channels.get(who, project, channel))


@router.patch(
    "/projects/{project}/channels/{channel}",
    summary="Change a channel's settings or secrets",
    responses=errors(404, 409),
)
def patch_channel(
    project: ProjectKey,
    channel: ChannelRef,
    body: ChannelPatch,
    services: ServicesDep,
    who: MayManageChannels,
) -> ChannelOut:
    view = services.channels.update(who, project, channel, body.settings, body.secrets)
    return ChannelOut.of(view)


@router.delete(
    "/projects/{project}/channels/{channel}",
    summary="Remove a channel (what was queued for it is not sent)",
    responses=errors(404),
)
def delete_channel(
    project: ProjectKey, channel: ChannelRef, services: ServicesDep, who: MayManageChannels
) -> ChannelOut:
    return ChannelOut.of(services.channels.remove(who, project, channel))


@router.post(
    "/projects/{project}/channels/{channel}/test",
    summary="Send a test message now and say what the channel answered",
    responses=errors(404),
)
def test_channel(
    project: ProjectKey, channel: ChannelRef, services: ServicesDep, who: MayManageChannels
) -> TestOut:
    answer = services.channels.test(who, project, channel)
    return TestOut(ok=answer.ok, said=answer.said)
