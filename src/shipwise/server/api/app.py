"""The FastAPI application: admin API, SDK APIs, and their error handling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shipwise import __version__
from shipwise.server.api import (
    admin,
    calendar_feed,
    frontend,
    frontend_announcements,
    ofrep,
    sdk,
    sdk_announcements,
    unleash,
    vercel_drains,
    webhooks,
)
from shipwise.server.api.bounds import BoundedRequests
from shipwise.server.api.docs_assets import install_docs
from shipwise.server.api.errors import install_error_handlers
from shipwise.server.api.health import health_response
from shipwise.server.api.limits import DEFAULT_LIMITS, BodyLimits
from shipwise.server.api.stream import Broadcaster, StreamEndpoint
from shipwise.server.bootstrap import Services
from shipwise.server.web import install_web

IO_THREADS = 40  # as many as anyio gives the sync routes


def create_app(services: Services, limits: BodyLimits = DEFAULT_LIMITS) -> FastAPI:
    broadcaster = Broadcaster(services.snapshots)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The async routes' blocking calls (token checks, snapshot reads, SDK metrics
        # writes, live polls) run on asyncio's default executor, which Python sizes
        # min(32, cores + 4): six threads on two cores, where six SDK metrics writes
        # queued on SQLite's one writer would hold up every request's token check. The
        # sync routes get anyio's 40; these get as many.
        executor = ThreadPoolExecutor(IO_THREADS, thread_name_prefix="shipwise-io")
        asyncio.get_running_loop().set_default_executor(executor)
        broadcaster.start()
        services.bus.subscribe(broadcaster.on_change)
        services.bus.subscribe_revocations(broadcaster.on_revoked)
        yield
        await broadcaster.stop()
        executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="Shipwise",
        version=__version__,
        summary="Release control plane: flags, gated promotions, guarded rollouts.",
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc without a CDN: docs_assets.py
        redoc_url=None,
    )
    app.state.services = services
    app.state.broadcaster = broadcaster
    app.state.body_limits = limits
    # Every request is held to its route's limits before a route reads it (limits.py).
    app.add_middleware(BoundedRequests, limits=limits)
    install_error_handlers(app)
    # A plain ASGI route: the stream writes go straight to each connection (stream.py).
    app.router.add_route(
        "/sdk/v1/stream",
        StreamEndpoint(broadcaster, services.tokens),  # type: ignore[arg-type]
        methods=["GET"],
        include_in_schema=False,
    )
    # The hot SDK routes first: the router tries routes in order (~60 µs for all of admin).
    for module in (sdk, unleash, frontend, ofrep, admin, webhooks, vercel_drains):
        app.include_router(module.router)
    for module in (sdk_announcements, frontend_announcements):  # in-app announcements
        app.include_router(module.router)
    app.include_router(calendar_feed.router)  # calendar apps, by a secret address
    install_docs(app)  # after the API's routes: a page for people, not on the hot path
    install_web(app)  # the dashboard: pages for people, after every API route

    app.add_api_route(
        "/health",
        health,
        methods=["GET"],
        tags=["meta"],
        summary="Liveness, the database's state and the streams this instance holds",
        response_description="ok, or degraded: writes fail (disk full, locked, read-only)",
        responses={503: {"description": "The database cannot be read: route traffic elsewhere"}},
    )
    return app


# A module function reading the app's state, not a closure over `services`: FastAPI keeps
# endpoint functions in process-wide caches, which would keep a closure's app alive.
async def health(request: Request) -> JSONResponse:
    state = request.app.state
    return await health_response(state.services.database, state.broadcaster.subscriber_count())
