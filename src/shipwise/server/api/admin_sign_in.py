"""One-time sign-in links for the dashboard.

POST /sign-in-links   a link that signs a person in once, within minutes (default 15):
                      the answer holds its code, this once; only its hash is stored

The link signs in as the person's most recent active personal api token (of
``project``, when given); only whoever may manage that token (its project's admins, a
global admin) may make one. ``shipwise login-link NAME`` calls this.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayManageTokens, ServicesDep
from shipwise.server.api.schemas import Key, StrictBody, TokenName, errors
from shipwise.server.services.web_sessions import LINK_MINUTES, MAX_LINK_MINUTES

router = admin_router("sign-in")

Minutes = Annotated[
    int,
    Field(ge=1, le=MAX_LINK_MINUTES, description="How long the link works, in minutes"),
]


class SignInLinkIn(StrictBody):
    name: TokenName = Field(description="The person: the name of their personal api token")
    minutes: Minutes = LINK_MINUTES
    project: Key | None = Field(default=None, description="Only this project's tokens")


class SignInLinkOut(BaseModel):
    path: str = Field(description="The link's path on this server; shown this once")
    person: str
    token_prefix: str = Field(description="The token the link signs in as")
    expires_at: datetime


@router.post(
    "/sign-in-links",
    status_code=201,
    summary="A one-time dashboard sign-in link for a person; shown this once",
    responses=errors(404),
)
def create_sign_in_link(
    body: SignInLinkIn, services: ServicesDep, who: MayManageTokens
) -> SignInLinkOut:
    issued = services.web_sessions.create_link(
        who, body.name, minutes=body.minutes, project_key=body.project
    )
    return SignInLinkOut(
        path=f"/sign-in/link/{issued.code}",
        person=issued.person,
        token_prefix=issued.token_prefix,
        expires_at=issued.expires_at,
    )
