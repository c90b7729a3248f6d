"""Signing in and out: ``/sign-in`` (a personal api token), ``/sign-in/link/{code}``
(a one-time link an admin made) and ``/sign-out``.

A sign-in form posts before there is a session, so it has no CSRF token to carry; what
stops another site signing a browser in as someone else (login CSRF) is the Origin
check: a browser names the page a POST came from, and only this server's pages may post
here. A link's GET only shows whom it signs in as, with a button: mail and chat link
scanners fetch URLs, and a GET that used the link would burn it before its person came.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from shipwise.server.services.errors import Forbidden, ServiceError
from shipwise.server.services.web_sessions import SignedInSession
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import (
    SIGN_IN,
    SignedInPost,
    current_session,
    end_session_cookie,
    local_path,
    sessions_of,
    set_session_cookie,
)
from shipwise.server.web.templating import FLASH_PARAMETER, render

__all__ = ["router"]

router = web_router()

# No length limits here: the service refuses an overlong token or code, and
# ``local_path`` an overlong ``next``, each on the form with its message (the request's
# size is bounded before any route reads it).
Next = Annotated[str | None, Query()]
NextField = Annotated[str | None, Form()]
TokenField = Annotated[str | None, Form()]


@router.get(SIGN_IN)
def sign_in_page(request: Request, next: Next = None) -> Response:
    """The sign-in form: a personal api token, then back to ``next``."""
    return render(
        request, "sign_in.html", None, next=local_path(next) or "", signed_in=_someone(request)
    )


@router.post(SIGN_IN)
def sign_in(request: Request, token: TokenField = None, next: NextField = None) -> Response:
    _same_origin(request)
    target = local_path(next) or "/"
    try:
        session = sessions_of(request).sign_in(token)
    except ServiceError as refused:
        errors = {refused.field or "token": refused.message}
        return render(
            request,
            "sign_in.html",
            None,
            status=refused.status,
            next=local_path(next) or "",
            errors=errors,
            signed_in=None,
        )
    return _signed_in(request, session, target)


@router.get(SIGN_IN + "/link/{code}")
def link_page(request: Request, code: str) -> Response:
    """Whom the link signs in as, and a button that does (the GET uses nothing)."""
    try:
        pending = sessions_of(request).pending_link(code)
    except ServiceError as refused:
        return render(
            request, "sign_in_link.html", None, status=refused.status, problem=refused.message
        )
    return render(request, "sign_in_link.html", None, pending=pending, problem=None)


@router.post(SIGN_IN + "/link/{code}")
def use_link(request: Request, code: str) -> Response:
    _same_origin(request)
    try:
        session = sessions_of(request).use_link(code)
    except ServiceError as refused:
        return render(
            request, "sign_in_link.html", None, status=refused.status, problem=refused.message
        )
    return _signed_in(request, session, "/")


@router.post("/sign-out")
def sign_out(request: Request, viewer: SignedInPost) -> Response:
    sessions_of(request).sign_out(viewer.principal, int(viewer.session_id))
    response = RedirectResponse(
        f"{SIGN_IN}?{urlencode({FLASH_PARAMETER: 'Signed out.'})}", status_code=303
    )
    end_session_cookie(request, response)
    return response


def _signed_in(request: Request, session: SignedInSession, target: str) -> Response:
    who = session.principal.person
    separator = "&" if "?" in target else "?"
    flash = urlencode({FLASH_PARAMETER: f"Signed in as {who}."})
    response = RedirectResponse(f"{target}{separator}{flash}", status_code=303)
    set_session_cookie(request, response, session.secret)
    return response


def _someone(request: Request) -> str | None:
    """Who is signed in already in this browser, if anyone (the page says so)."""
    active = current_session(request)
    return None if active is None else active.principal.person


def _same_origin(request: Request) -> None:
    """Refuse a sign-in posted from another site's page (login CSRF). Browsers send
    Origin with every POST; a client that sends none (curl, a test) is not a browser
    being tricked."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    parts = urlsplit(origin)
    if origin == "null" or parts.netloc != request.headers.get("host", request.url.netloc):
        raise Forbidden(
            "a sign-in must be posted from this server's own sign-in page; nothing was done"
        )
