"""Tokens on requests: ``Authorization: Bearer <token>`` (and Unleash's bare
``Authorization: <token>``), turned into a ``Principal`` by the token service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from shipwise.domain.access import TokenKind
from shipwise.server.bootstrap import Services
from shipwise.server.services.errors import Forbidden
from shipwise.server.services.principal import Principal


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _secret(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, rest = authorization.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest else authorization.strip()


def principal(request: Request, authorization: Annotated[str | None, Header()] = None) -> Principal:
    return services(request).tokens.authenticate(_secret(authorization))


def sdk_principal(kinds: tuple[TokenKind, ...]):  # type: ignore[no-untyped-def]
    """A dependency accepting only SDK keys of ``kinds`` (and naming the right kind)."""

    def dependency(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.kind not in kinds or who.environment_id is None:
            wanted = " or ".join(f"a {k} key" for k in kinds)
            raise Forbidden(f"this endpoint needs {wanted}; this is a {who.kind} token")
        return who

    return dependency


ServicesDep = Annotated[Services, Depends(services)]
PrincipalDep = Annotated[Principal, Depends(principal)]
ServerKey = Annotated[Principal, Depends(sdk_principal((TokenKind.SERVER,)))]
FrontendKey = Annotated[Principal, Depends(sdk_principal((TokenKind.FRONTEND,)))]
AnySdkKey = Annotated[Principal, Depends(sdk_principal((TokenKind.SERVER, TokenKind.FRONTEND)))]
