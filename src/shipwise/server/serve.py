"""Running the server: ``shipwise serve``."""

from __future__ import annotations

import gc
import logging

import uvicorn

from shipwise.server.api.app import create_app
from shipwise.server.bootstrap import Services, build
from shipwise.server.demo_traffic import start_demo_traffic
from shipwise.server.settings import Settings

log = logging.getLogger("shipwise")


def announce(services: Services, settings: Settings, echo: object = print) -> None:
    url = f"http://{settings.host}:{settings.port}"
    database = services.database.engine.url.render_as_string(hide_password=True)
    lines = [f"Shipwise is serving {url} (database: {database})"]
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


def serve(settings: Settings) -> None:
    services = build(settings, settings.clock())
    announce(services, settings)
    if settings.runner:
        services.start_runner(settings.runner_interval, settings.runner_lease)
    if settings.demo:  # synthetic users, so the demo rollout has numbers to judge
        stop_traffic = start_demo_traffic(services, settings)
    app = create_app(services, settings.body_limits)
    tune_garbage_collector()
    try:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
    finally:
        if settings.demo:
            stop_traffic.set()
        services.close()
