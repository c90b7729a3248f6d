"""Tokens on requests, turned into a ``Principal`` by the token service.

Accepted: ``Authorization: Bearer <token>``, Unleash's bare ``Authorization: <token>``
and OFREP's ``X-API-Key``. SDK endpoints are ``async`` and hot: the principal comes from
the token cache without leaving the event loop, and only a cache miss goes to the
database, in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, NamedTuple

from fastapi import Depends, Header, Request

from shipwise.domain.access import Action, TokenKind, allows
from shipwise.domain.pipeline import KEY_PATTERN
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


class Permission:
    """An admin route's permission, as the dependency that yields its ``Principal``:
    ``who: Annotated[Principal, may(Action.APPROVE)]``.

    FastAPI calls dependencies before it reports an invalid path, query or body, so a
    token that may not do this gets its 403 first, never a 422 that describes the route
    to it (``AdminRoute`` does the same for bodies that are not JSON at all). The project
    is the path's ``{project}``, else the ``?project=`` filter; without one only the role
    is checked here, and the service checks the project it finds. The services check
    again either way: they are the authority, this is the order of the answers.
    """

    def __init__(
        self,
        actions: tuple[Action, ...],
        *,
        every_project: str | None = None,
        global_only: str | None = None,
    ) -> None:
        self.actions = actions
        # What only a global admin may do: without a project (read every project's log),
        # or at all (verify the audit chain).
        self.every_project = every_project
        self.global_only = global_only

    def __call__(self, request: Request) -> Principal:
        who = principal(request, request.headers.get("authorization"))
        who.require_api_token()
        if self.global_only is not None:
            who.require_global_admin(self.global_only)
        if who.global_admin:
            return who
        key = request.path_params.get("project") or request.query_params.get("project")
        if key is None and self.every_project is not None:
            who.require_global_admin(self.every_project)
        if key is not None and KEY_PATTERN.fullmatch(key):
            project = services(request).projects.get(who, key).project  # 404, or 403 elsewhere
            for action in self.actions:
                who.require(action, project)
            return who
        for action in self.actions:
            if who.role is None or not allows(who.role, action):
                raise Forbidden(f"role {who.role} may not {action}")
        return who


def may(*actions: Action, every_project: str | None = None) -> Any:
    """The ``Depends`` marker of a route that needs every one of ``actions``."""
    return Depends(Permission(actions, every_project=every_project))


def only_global_admins(what: str) -> Any:
    """The ``Depends`` marker of a route for global admins alone (``what`` they do)."""
    return Depends(Permission((), global_only=what))


class SdkKey(NamedTuple):
    kind: TokenKind
    environment_id: int
    token_id: int | None = None  # for streams, which end when their key stops working
    expires_at: datetime | None = None


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
    return SdkKey(who.kind, who.environment_id, who.token_id, who.expires_at)


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

# Who may: the principal of an admin route, its permission checked before anything else.
MayRead = Annotated[Principal, may(Action.READ)]
MayWriteFlags = Annotated[Principal, may(Action.WRITE_FLAGS)]
MayKill = Annotated[Principal, may(Action.KILL)]
MayCreateProjects = Annotated[Principal, may(Action.MANAGE_PROJECTS)]
MayManageEnvironments = Annotated[Principal, may(Action.MANAGE_ENVIRONMENTS)]
MayManageTokens = Annotated[Principal, may(Action.MANAGE_TOKENS)]
MayManageReleases = Annotated[Principal, may(Action.MANAGE_RELEASES)]
MayApprove = Annotated[Principal, may(Action.APPROVE)]
MaySignOff = Annotated[Principal, may(Action.SIGN_OFF)]
MayPromote = Annotated[Principal, may(Action.PROMOTE)]
MayReport = Annotated[Principal, may(Action.REPORT)]
MayManagePolicy = Annotated[Principal, may(Action.MANAGE_POLICY)]
MayRollout = Annotated[Principal, may(Action.ROLLOUT)]
MayOverrideRollout = Annotated[Principal, may(Action.OVERRIDE_ROLLOUT)]
ServerKey = Annotated[SdkKey, Depends(sdk_key(SERVER))]
FrontendKey = Annotated[SdkKey, Depends(sdk_key(FRONTEND))]
AnySdkKey = Annotated[SdkKey, Depends(sdk_key(ANY_SDK))]
