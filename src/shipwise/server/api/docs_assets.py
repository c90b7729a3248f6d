"""The API's documentation pages, /docs (Swagger UI) and /redoc, served whole by Shipwise.

FastAPI's own pages load their JavaScript, CSS and fonts from public CDNs, so a server
on a closed network shows a blank page. The files come instead from the maintained
``fastapi-offline`` package (Swagger UI 5 and ReDoc 2, refreshed with its releases):
nobody's JavaScript is committed here, and upgrading is a version bump.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))

# The browser itself keeps both pages on this server: ReDoc's sidebar shows a logo from
# cdn.redoc.ly, which this blocks (the image hides itself when it fails to load). The
# inline script and styles are FastAPI's page set-up and the UIs' own; blob: workers are
# ReDoc's search.
_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "worker-src 'self' blob:",
        "frame-ancestors 'none'",
    )
)

# No online-validator badge (it sends the spec's URL to validator.swagger.io), should a
# layout that shows it ever be chosen: the spec is nobody else's business.
_SWAGGER_PARAMETERS = {"validatorUrl": None}


def install_docs(app: FastAPI) -> None:
    """Add /docs, /docs/oauth2-redirect and /redoc to an app created with
    ``docs_url=None, redoc_url=None``, with their assets under ``ASSETS_PATH``.

    The pages are module functions that read the app from the request, not closures
    over it: FastAPI keeps every endpoint function in process-wide caches, and a
    closure there would keep its app (and all it holds) alive after the server stops."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    app.add_api_route("/docs", swagger_ui, methods=["GET"], include_in_schema=False)
    app.add_api_route(
        _redirect_url(app), swagger_ui_redirect, methods=["GET"], include_in_schema=False
    )
    app.add_api_route("/redoc", redoc, methods=["GET"], include_in_schema=False)


def _openapi_url(app: FastAPI) -> str:
    return app.openapi_url or "/openapi.json"


def _redirect_url(app: FastAPI) -> str:
    return app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"


async def swagger_ui(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    root = request.scope.get("root_path", "")  # behind a proxy that strips a prefix
    return _same_origin(
        get_swagger_ui_html(
            openapi_url=f"{root}{_openapi_url(app)}",
            title=f"{app.title} - API",
            oauth2_redirect_url=f"{root}{_redirect_url(app)}",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), **_SWAGGER_PARAMETERS},
        )
    )


async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


async def redoc(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    root = request.scope.get("root_path", "")
    return _same_origin(
        get_redoc_html(
            openapi_url=f"{root}{_openapi_url(app)}",
            title=f"{app.title} - API",
            redoc_js_url=f"{root}{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,  # fonts.googleapis.com: the system's fonts serve
        )
    )


def _same_origin(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = _POLICY
    return page
