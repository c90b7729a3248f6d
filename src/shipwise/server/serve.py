"""Running the server: ``shipwise serve``."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import sys
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from shipwise.server.api.app import create_app
from shipwise.server.bootstrap import Services, build
from shipwise.server.clocks import describe_speed, system_clock
from shipwise.server.demo_traffic import start_demo_traffic
from shipwise.server.settings import Settings

log = logging.getLogger("shipwise")


def announce(services: Services, settings: Settings, echo: object = print) -> None:
    url = f"http://{settings.host}:{settings.port}"
    database = services.database.engine.url.render_as_string(hide_password=True)
    lines = [f"Shipwise is serving {url} (database: {database})"]
    if settings.speed != 1.0:  # rollouts move this much faster; sessions do not
        lines.append(
            f"{'demo' if settings.demo else 'accelerated'} clock: {describe_speed(settings.speed)}"
            " (rollouts, evidence and audit times; sign-in sessions and links keep real time)"
        )
    if services.first_admin_secret:
        lines += [
            "First start: an admin token was created. It is shown this once; keep it safe:",
            f"    export SHIPWISE_URL={url}",
            f"    export SHIPWISE_TOKEN={services.first_admin_secret}",
            "Then, in another terminal:",
            "    shipwise flag list",
            "    shipwise flag rollout new-checkout 25 -e production",
            "    shipwise token create --name my-app --kind server -e production",
            f"    open {url}/docs for the API",
        ]
    for line in lines:
        echo(line)  # type: ignore[operator]


def tune_garbage_collector() -> None:
    """Keep full collections off the streaming path. A server holding thousands of
    streams has many long-lived objects; the default thresholds make a full collection
    scan them all every few thousand allocations, a pause of tens of milliseconds that
    lands in the middle of a fan-out. Objects alive at start-up are frozen out of
    collection, and collections run less often (memory use grows only slightly)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


class Server(uvicorn.Server):
    """uvicorn's server, which ends the app's open streams as soon as it starts to stop.

    uvicorn stops gracefully: it stops accepting, waits for open connections to finish
    and, after ``timeout_graceful_shutdown``, cancels the rest with a traceback. A stream
    never finishes by itself (SDKs hold ``/sdk/v1/stream``, dashboard tabs
    ``/projects/P/live``), so before that wait, on the event loop, whatever asked it to
    stop (SIGINT, SIGTERM, ``should_exit``): ``before_stop`` runs (the demo's traffic, an
    SDK client of this very server, which still answers it), then every stream ends and
    its client reconnects, to the next server. The wait finds nothing left to wait for."""

    def __init__(
        self, config: uvicorn.Config, app: FastAPI, before_stop: Callable[[], None] | None = None
    ) -> None:
        super().__init__(config)
        self._app = app
        self._before_stop = before_stop

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._before_stop is not None:  # it may block: off the loop, which serves it
            await asyncio.to_thread(self._before_stop)
        self._app.state.broadcaster.close_streams()
        self._app.state.live.close_all()
        await super().shutdown(sockets)


def serve(settings: Settings) -> None:
    # The store's clock may run fast (the demo, simulations); a person's session,
    # sign-in link and token expiry stay on the wall clock whatever it does.
    services = build(settings, settings.clock(), people_clock=system_clock)
    announce(services, settings)
    if settings.runner:
        services.start_runner(settings.runner_interval, settings.runner_lease)
    # Synthetic users, so the demo rollout has numbers to judge.
    traffic = start_demo_traffic(services, settings) if settings.demo else None
    app = create_app(services, settings.body_limits)
    tune_garbage_collector()
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        timeout_graceful_shutdown=2,  # a guard: the streams end before it (Server)
    )
    server = Server(config, app, before_stop=None if traffic is None else traffic.stop)
    try:
        server.run()
    finally:
        if traffic is not None:  # already, unless the server did not start
            traffic.stop()
        services.close()
    if not server.started:  # as uvicorn.run: the lines above say why
        sys.exit(1)
