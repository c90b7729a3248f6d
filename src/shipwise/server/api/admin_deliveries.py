"""What the outbox sent, or failed to send, to a project's channels.

GET  /projects/{p}/deliveries?state=failing&state=given-up   newest first (anyone on the
                                                             project); no state: all
POST /projects/{p}/deliveries/{id}/retry                      send it again: due now, its
                                                             attempts kept, audited
                                                             (admins, release managers)

``state``: pending, failing, given-up, delivered, or failed (failing and given-up).
Server-wide notifiers' items (the log, the server's webhook) are not a project's.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel, Field

from shipwise.domain.access import Action
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayRead, ServicesDep, may
from shipwise.server.api.schemas import ProjectKey, errors
from shipwise.server.ports import DeliveryState
from shipwise.server.services.deliveries import FAILED, DeliveryView
from shipwise.server.services.principal import Principal

router = admin_router("deliveries")

MayManageChannels = Annotated[Principal, may(Action.MANAGE_CHANNELS)]


class StateIn(enum.StrEnum):
    PENDING = "pending"
    FAILING = "failing"
    GIVEN_UP = "given-up"
    DELIVERED = "delivered"
    FAILED = "failed"  # failing or given up


def _states(given: list[StateIn]) -> set[DeliveryState] | None:
    if not given:
        return None
    states: set[DeliveryState] = set()
    for state in given:
        states |= FAILED if state is StateIn.FAILED else {DeliveryState(state.value)}
    return states


class DeliveryOut(BaseModel):
    id: int
    channel: str = Field(description="The channel's name")
    event: str = Field(description="The notification's kind, e.g. rollout.rolled-back")
    title: str
    state: DeliveryState
    attempts: int
    last_error: str | None = Field(description="What the channel said the last time it failed")
    next_attempt_at: datetime | None = Field(description="None: delivered or given up")
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, view: DeliveryView) -> DeliveryOut:
        return cls(
            id=view.id,
            channel=view.channel,
            event=view.event,
            title=view.title,
            state=view.state,
            attempts=view.attempts,
            last_error=view.last_error,
            next_attempt_at=view.next_attempt_at,
            delivered_at=view.delivered_at,
            created_at=view.created_at,
        )


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut] = Field(description="Newest first")


@router.get(
    "/projects/{project}/deliveries",
    summary="What was sent, or failed to send, to the project's channels",
    responses=errors(404),
)
def list_deliveries(
    project: ProjectKey,
    services: ServicesDep,
    who: MayRead,
    state: Annotated[
        list[StateIn],
        Query(description="Only these: pending, failing, given-up, delivered, failed"),
    ] = [],  # noqa: B006 (FastAPI copies a default; it is never mutated)
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> DeliveryList:
    found = services.deliveries.list(who, project, _states(state), limit)
    return DeliveryList(deliveries=[DeliveryOut.of(d) for d in found])


@router.post(
    "/projects/{project}/deliveries/{delivery}/retry",
    summary="Send a failing or given-up delivery again, now",
    responses=errors(404, 409),
)
def retry_delivery(
    project: ProjectKey,
    delivery: Annotated[int, Path(ge=1, le=2**31 - 1, description="The delivery's id")],
    services: ServicesDep,
    who: MayManageChannels,
) -> DeliveryOut:
    return DeliveryOut.of(services.deliveries.retry(who, project, delivery))
