"""Tokens on requests, turned into a ``Principal`` by the token service.

Accepted: ``Authorization: Bearer <token>``, Unleash's bare ``Authorization: <token>``
and OFREP's ``X-API-Key``. SDK endpoints are ``async`` and hot: the principal comes from
the token cache without leaving the event loop, and only a cache miss goes to the
database, in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, NamedTuple

from fastapi import Depends, Header, Request

from shipwise.domain.access import TokenKind
from shipwise.server.bootstrap import Services
from shipwise.server.services.errors import Forbidden
from shipwise.server.services.principal import Principal
from shipwise.server.services.snapshots import PublishedSnapshot

SERVER = (TokenKind.SERVER,)
FRONTEND = (TokenKind.FRONTEND,)
ANY_SDK = (TokenKind.SERVER, TokenKind.FRONTEND)


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def secret_from(authorization: str | None, api_key: str | None = None) -> str | None:
    if not authorization:
        return api_key
    scheme, _, rest = authorization.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest else authorization.strip()


def principal(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    """For the admin API (sync handlers, already in a worker thread)."""
    return services(request).tokens.authenticate(secret_from(authorization))


class SdkKey(NamedTuple):
    kind: TokenKind
    environment_id: int


async def authenticate_sdk(request: Request, kinds: tuple[TokenKind, ...]) -> SdkKey:
    """The request's SDK key, if it is one of ``kinds`` (a 403 names the right kind)."""
    headers = request.headers
    secret = secret_from(headers.get("authorization"), headers.get("x-api-key"))
    tokens = services(request).tokens
    who = tokens.peek(secret)
    if who is None:
        who = await asyncio.to_thread(tokens.authenticate, secret)
    if who.kind not in kinds or who.environment_id is None:
        wanted = " or ".join(f"a {k} key" for k in kinds)
        raise Forbidden(f"this endpoint needs {wanted}; this is a {who.kind} token")
    return SdkKey(who.kind, who.environment_id)


async def published_for(request: Request, kinds: tuple[TokenKind, ...]) -> PublishedSnapshot:
    """The current snapshot of the environment of the request's SDK key."""
    environment_id = (await authenticate_sdk(request, kinds)).environment_id
    snapshots = services(request).snapshots
    published = snapshots.cached(environment_id)
    if published is None:
        published = await asyncio.to_thread(snapshots.current, environment_id)
    return published


def sdk_key(kinds: tuple[TokenKind, ...]) -> Callable[[Request], Awaitable[SdkKey]]:
    async def dependency(request: Request) -> SdkKey:
        return await authenticate_sdk(request, kinds)

    return dependency


ServicesDep = Annotated[Services, Depends(services)]
PrincipalDep = Annotated[Principal, Depends(principal)]
ServerKey = Annotated[SdkKey, Depends(sdk_key(SERVER))]
FrontendKey = Annotated[SdkKey, Depends(sdk_key(FRONTEND))]
AnySdkKey = Annotated[SdkKey, Depends(sdk_key(ANY_SDK))]
