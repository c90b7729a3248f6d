"""The dashboard: server-rendered pages on the same services the API uses.

``install_web(app)`` adds every page and form action (each router's routes are
``routing.WebRoute``: HTML, the browser's safety headers, errors as pages) and serves
``static/`` (the project's own CSS and script, nothing third-party) at ``/static``.
The web layer imports services, never storage; who is looking comes from
``session_auth`` (a session cookie, CSRF-checked on every POST).
"""

from __future__ import annotations

from types import ModuleType

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from shipwise.server.web import (
    announcement_actions,
    audit_page,
    board,
    change_request_actions,
    change_requests_page,
    channel_actions,
    flag_actions,
    flag_page,
    flags_page,
    learnings_page,
    live,
    mailout_actions,
    mailout_page,
    release_actions,
    release_page,
    rollout_actions,
    rollout_page,
    schedule_actions,
    settings_actions,
    settings_page,
    sign_in,
)
from shipwise.server.web.routing import page_http_errors

__all__ = ["STATIC_PATH", "install_web"]

STATIC_PATH = "/static"
# Page modules, each with its ``router``; their paths never overlap, so order is free.
PAGES: tuple[ModuleType, ...] = (board, release_page, release_actions, flags_page, flag_page)
PAGES += (flag_actions, sign_in)
PAGES += (audit_page, settings_page, settings_actions, channel_actions)
PAGES += (rollout_page, rollout_actions)
PAGES += (change_requests_page, change_request_actions)
PAGES += (announcement_actions,)
PAGES += (learnings_page,)
PAGES += (mailout_page, mailout_actions)
PAGES += (schedule_actions,)


def install_web(app: FastAPI) -> None:
    """Add the dashboard to ``app``, after the API's routes (the hot SDK routes are
    tried first; no page path is an API path)."""
    for module in PAGES:
        app.include_router(module.router)
    live.install(app)  # the pages' live updates: a stream, its hub and its middleware
    # An unknown URL under a page's path is a page too, not the API's JSON (routing.py).
    page_http_errors(app, [module.router for module in PAGES])
    # From the installed package, wherever it is: the files ship in the wheel.
    app.mount(STATIC_PATH, StaticFiles(packages=[("shipwise.server.web", "static")]), name="static")
