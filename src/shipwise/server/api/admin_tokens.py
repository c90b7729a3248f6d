"""API tokens and SDK keys.

GET    /tokens?project=   a project's tokens (its admins); every token (global admins)
POST   /tokens            the answer holds the secret, this once: only its hash is stored
GET    /tokens/{id}       never the secret
DELETE /tokens/{id}       revoke, for good (revoking again changes nothing)
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from shipwise.domain.access import Role, TokenKind
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.answers import fields_of
from shipwise.server.api.auth import MayManageTokens, ServicesDep
from shipwise.server.api.schemas import (
    KEY_REGEX,
    Expiry,
    Key,
    StrictBody,
    TokenId,
    TokenName,
    errors,
)
from shipwise.server.services.tokens import IssuedToken, TokenView

router = admin_router("tokens")


class TokenIn(StrictBody):
    name: TokenName
    kind: TokenKind
    project: Key | None = Field(
        default=None, description="Required, except for a global admin token (api, no project)"
    )
    environment: Key | None = Field(default=None, description="SDK keys only, and required")
    role: Role | None = Field(default=None, description="api tokens only, and required")
    expires_at: Expiry = Field(default=None, description="With a time zone; stored in UTC")


class TokenOut(BaseModel):
    id: int
    name: str
    kind: str
    role: str | None
    project: str | None
    environment: str | None
    prefix: str = Field(description="The secret's first characters, to tell tokens apart")
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, view: TokenView) -> TokenOut:
        return cls.model_validate(
            fields_of(view.record, project=view.project, environment=view.environment)
        )


class IssuedTokenOut(TokenOut):
    secret: str = Field(description="Shown this once: only its hash is stored")

    @classmethod
    def issued(cls, issued: IssuedToken) -> IssuedTokenOut:
        view = TokenView(issued.record, issued.project, issued.environment)
        return cls(**TokenOut.of(view).model_dump(), secret=issued.secret)


class TokenList(BaseModel):
    tokens: list[TokenOut]


ProjectFilter = Annotated[
    str | None, Query(pattern=KEY_REGEX, description="Only this project's tokens")
]


@router.get("/tokens", summary="Tokens and SDK keys, without secrets", responses=errors(404, 422))
def list_tokens(
    services: ServicesDep, who: MayManageTokens, project: ProjectFilter = None
) -> TokenList:
    return TokenList(tokens=[TokenOut.of(v) for v in services.tokens.all(who, project)])


@router.post(
    "/tokens",
    status_code=201,
    summary="Create an api token or an SDK key; the secret is shown this once",
    responses=errors(404, 422),
)
def create_token(body: TokenIn, services: ServicesDep, who: MayManageTokens) -> IssuedTokenOut:
    issued = services.tokens.create(
        who,
        name=body.name,
        kind=body.kind.value,
        project_key=body.project,
        environment_key=body.environment,
        role=None if body.role is None else body.role.value,
        expires_at=body.expires_at,
    )
    return IssuedTokenOut.issued(issued)


@router.get(
    "/tokens/{token_id}", summary="One token, without its secret", responses=errors(404, 422)
)
def get_token(token_id: TokenId, services: ServicesDep, who: MayManageTokens) -> TokenOut:
    return TokenOut.of(services.tokens.get(who, token_id))


@router.delete("/tokens/{token_id}", summary="Revoke a token, for good", responses=errors(404, 422))
def revoke_token(token_id: TokenId, services: ServicesDep, who: MayManageTokens) -> TokenOut:
    return TokenOut.of(services.tokens.revoke(who, token_id))
