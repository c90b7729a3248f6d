"""The FastAPI application: admin API, SDK APIs, and their error handling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shipwise import __version__
from shipwise.server.api import admin, frontend, ofrep, sdk, unleash, webhooks
from shipwise.server.api.errors import install_error_handlers
from shipwise.server.api.stream import Broadcaster, StreamEndpoint
from shipwise.server.bootstrap import Services


def create_app(services: Services) -> FastAPI:
    broadcaster = Broadcaster(services.snapshots)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        broadcaster.start()
        services.bus.subscribe(broadcaster.on_change)
        yield
        await broadcaster.stop()

    app = FastAPI(
        title="Shipwise",
        version=__version__,
        summary="Release control plane: flags, gated promotions, guarded rollouts.",
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.broadcaster = broadcaster
    install_error_handlers(app)
    # A plain ASGI route: the stream writes go straight to each connection (stream.py).
    app.router.add_route(
        "/sdk/v1/stream",
        StreamEndpoint(broadcaster, services.tokens),  # type: ignore[arg-type]
        methods=["GET"],
        include_in_schema=False,
    )
    # The hot SDK routes first: the router tries routes in order (~60 µs for all of admin).
    for module in (sdk, unleash, frontend, ofrep, admin, webhooks):
        app.include_router(module.router)

    @app.get("/health", tags=["meta"], summary="Liveness and the streams this instance holds")
    async def health() -> dict[str, object]:
        return {"status": "ok", "version": __version__, "streams": broadcaster.subscriber_count()}

    return app
