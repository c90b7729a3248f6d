"""Who is looking at a page: the signed-in person's session, from its cookie.

``SignedIn`` is a GET page's viewer: without a live session the browser is sent (303) to
``/sign-in?next=<this page>``. ``SignedInPost`` is a form action's: it also needs the
session's CSRF token, in the form field ``csrf_token`` or the header ``X-CSRF-Token``,
and answers 403 before the action runs, so nothing changes, when it is missing or wrong.

The cookie ``shipwise_session`` holds only a random id (its SHA-256 is stored, with the
token the session acts as): HttpOnly (no script reads it), SameSite=Strict (no other
site's page sends it), Path=/, Secure when the request came over https. The admin API
never reads it: its routes take bearer tokens only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Form, Header, HTTPException, Request, Response

from shipwise.server.services.errors import Forbidden, Unauthenticated
from shipwise.server.services.principal import Principal
from shipwise.server.services.web_sessions import (
    SESSION_LIFETIME,
    ActiveSession,
    WebSessionService,
)
from shipwise.server.web.deps import services

__all__ = [
    "COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SignedIn",
    "SignedInPost",
    "Viewer",
    "end_session_cookie",
    "local_path",
    "set_session_cookie",
    "sign_in_url",
    "signed_in",
    "signed_in_post",
    "viewer_of",
]

COOKIE = "shipwise_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SIGN_IN = "/sign-in"
MAX_NEXT = 2000  # a page's path and query; anything longer is not one of ours


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person a page is for: the principal their token carries (the same the API
    would get from it), the CSRF token their forms carry, and the session's reference
    (its number, never the cookie's secret)."""

    principal: Principal
    csrf: str
    session_id: str


def viewer_of(active: ActiveSession) -> Viewer:
    """The page's viewer of a live session."""
    return Viewer(active.principal, active.csrf, str(active.session_id))


def sessions_of(request: Request) -> WebSessionService:
    return services(request).web_sessions


def current_session(request: Request) -> ActiveSession | None:
    """The live session the request's cookie names, or None."""
    return sessions_of(request).session(request.cookies.get(COOKIE))


def local_path(candidate: str | None) -> str | None:
    """``candidate`` when it is a path on this server ("/projects/x/board?kind=bug"),
    else None: a sign-in must never send the browser to another site (an open
    redirect: "//evil.example", "https://evil.example", "/\\evil.example")."""
    if not candidate or len(candidate) > MAX_NEXT:
        return None
    if not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return None
    if any(ord(c) < 0x21 or c in "\\\x7f" for c in candidate):
        return None  # browsers drop tabs and newlines, then read "/\t/evil" as "//evil"
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return None
    return candidate


def sign_in_url(next_path: str | None) -> str:
    """The sign-in page, coming back to ``next_path`` (when it is local) afterwards."""
    local = local_path(next_path)
    return SIGN_IN if local in {None, "/"} else f"{SIGN_IN}?{urlencode({'next': local})}"


def signed_in(request: Request) -> Viewer:
    """A GET page's viewer; without a live session, 303 to the sign-in page."""
    active = current_session(request)
    if active is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, "sign in first", headers={"Location": sign_in_url(here)})
    viewer = viewer_of(active)
    request.state.viewer = viewer  # error pages show who is signed in too
    return viewer


def signed_in_post(
    request: Request,
    csrf_token: Annotated[str | None, Form(include_in_schema=False)] = None,
    x_csrf_token: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Viewer:
    """A form action's viewer: a live session (else 401) and its CSRF token (else 403),
    checked before the action runs."""
    active = current_session(request)
    if active is None:
        raise Unauthenticated(
            f"you are not signed in (or your session ended): sign in at {SIGN_IN}"
        )
    request.state.viewer = viewer_of(active)
    if not active.csrf_matches(csrf_token or x_csrf_token):
        raise Forbidden(
            "this form's CSRF token is missing or not this session's, so nothing was done: "
            "reload the page and try again"
        )
    return request.state.viewer  # type: ignore[no-any-return]


SignedIn = Annotated[Viewer, Depends(signed_in)]
SignedInPost = Annotated[Viewer, Depends(signed_in_post)]


def set_session_cookie(request: Request, response: Response, secret: str) -> None:
    """The new session's cookie on ``response``; the browser drops it when the session
    would expire anyway (the server is the judge of that, whatever the cookie says)."""
    response.set_cookie(
        COOKIE,
        secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


def end_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE, path="/", secure=request.url.scheme == "https", httponly=True, samesite="strict"
    )
