"""Which events go to which of a project's channels.

GET    /projects/{p}/subscriptions            every channel's subscriptions, and the
                                              defaults of a channel that has none
                                              (``default``: true, no id); ``?channel=``
POST   /projects/{p}/subscriptions            201: a new subscription (admins, release
                                              managers); the channel's defaults stop
DELETE /projects/{p}/subscriptions/{id}       the subscription removed
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel, Field

from shipwise.domain.access import Action
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayRead, ServicesDep, may
from shipwise.server.api.schemas import ProjectKey, StrictBody, errors
from shipwise.server.services.principal import Principal
from shipwise.server.services.subscriptions import SubscriptionView

router = admin_router("subscriptions")

MayManageChannels = Annotated[Principal, may(Action.MANAGE_CHANNELS)]
Values = list[Annotated[str, Field(min_length=1, max_length=63)]]


class SubscriptionIn(StrictBody):
    channel: str = Field(min_length=1, max_length=63, description="The channel's id or name")
    events: Values = Field(
        min_length=1,
        max_length=30,
        description="Event kinds (promotion.done), families (rollout.*) or *",
    )
    environments: Values = Field(default_factory=list, max_length=30, description="Only these")
    flags: Values = Field(default_factory=list, max_length=30, description="Only these flags")
    release_kinds: Values = Field(
        default_factory=list, max_length=3, description="Only these: feature, bugfix, hotfix"
    )
    min_severity: str = Field(default="info", max_length=20, description="info, warning, critical")
    digest: str | None = Field(
        default=None,
        max_length=20,
        description="daily: one email a day listing the events (email channels only); "
        "none: each event at once",
    )
    digest_at: str | None = Field(
        default=None,
        max_length=5,
        description="The digest's time of day, HH:MM in the policy's time zone (09:00)",
    )


class SubscriptionOut(BaseModel):
    id: int | None = Field(description="None for a default the channel hears")
    project: str
    channel: str
    channel_id: int
    events: list[str]
    environments: list[str]
    flags: list[str]
    release_kinds: list[str]
    min_severity: str
    default: bool = Field(description="A default: the channel has no subscription of its own")
    created_by: str | None
    created_at: datetime | None
    digest: str | None = Field(default=None, description="daily, or none: each event at once")
    digest_at: str | None = Field(default=None, description="HH:MM, the policy's time zone")

    @classmethod
    def of(cls, view: SubscriptionView) -> SubscriptionOut:
        return cls(
            id=view.id,
            project=view.project,
            channel=view.channel,
            channel_id=view.channel_id,
            events=list(view.events),
            environments=list(view.environments),
            flags=list(view.flags),
            release_kinds=list(view.release_kinds),
            min_severity=view.min_severity,
            default=view.default,
            created_by=view.created_by,
            created_at=view.created_at,
            digest=view.digest,
            digest_at=view.digest_at,
        )


class SubscriptionList(BaseModel):
    subscriptions: list[SubscriptionOut]


@router.get(
    "/projects/{project}/subscriptions",
    summary="Which events go to which channel",
    responses=errors(404),
)
def list_subscriptions(
    project: ProjectKey,
    services: ServicesDep,
    who: MayRead,
    channel: Annotated[str | None, Query(min_length=1, max_length=63)] = None,
) -> SubscriptionList:
    views = services.subscriptions.list(who, project, channel)
    return SubscriptionList(subscriptions=[SubscriptionOut.of(v) for v in views])


@router.post(
    "/projects/{project}/subscriptions",
    status_code=201,
    summary="Subscribe a channel to events",
    responses=errors(404),
)
def create_subscription(
    project: ProjectKey, body: SubscriptionIn, services: ServicesDep, who: MayManageChannels
) -> SubscriptionOut:
    view = services.subscriptions.create(
        who,
        project,
        body.channel,
        body.events,
        environments=body.environments,
        flags=body.flags,
        release_kinds=body.release_kinds,
        min_severity=body.min_severity,
        digest=body.digest,
        digest_at=body.digest_at,
    )
    return SubscriptionOut.of(view)


@router.delete(
    "/projects/{project}/subscriptions/{subscription}",
    summary="Remove a subscription",
    responses=errors(404),
)
def delete_subscription(
    project: ProjectKey,
    subscription: Annotated[int, Path(ge=1, le=2**31 - 1)],
    services: ServicesDep,
    who: MayManageChannels,
) -> SubscriptionOut:
    return SubscriptionOut.of(services.subscriptions.remove(who, project, subscription))
