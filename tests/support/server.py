"""A real Shipwise server for tests: uvicorn on a free loopback port, in a thread, on
the database the test chooses. Nothing is mocked."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from tests.support import stall_watch

from shipwise.server.api.app import create_app
from shipwise.server.bootstrap import Services, build
from shipwise.server.outbound_tls import client_context
from shipwise.server.ports import Clock
from shipwise.server.serve import Server
from shipwise.server.settings import Settings

ADMIN_TOKEN = "sw_api_test-admin-token"


# A request to a test server that stalls reports what every thread and PostgreSQL backend
# is doing, printed with the failure (stall_watch.py).
STALL_HOOKS = stall_watch.HOOKS

# One TLS context for the tests' clients (`verify=TLS`): httpx makes one per client by
# default, parsing the whole CA bundle each time, about 35 ms, for clients that only
# ever speak plain HTTP to 127.0.0.1.
TLS = client_context()  # the server's own, shared the same way (outbound_tls.py)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    admin_token: str
    services: Services

    def admin(self) -> httpx.Client:
        """An httpx client for the admin API, authenticated as the first admin."""
        # 30 s is a hang guard, not a latency bound; a stall past 8 s reports itself (stall_watch).
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=30,
            event_hooks=STALL_HOOKS,
            verify=TLS,
        )


@contextmanager
def running_server(
    database_url: str | None = None,
    data_dir: Path | None = None,
    admin_token: str = ADMIN_TOKEN,
    clock: Clock | None = None,
    github_webhook_secret: str | None = None,
    database_busy_timeout: float = 10.0,
    vercel_drain_secret: str | None = None,
    vercel_verify: str | None = None,
) -> Iterator[RunningServer]:
    port = free_port()
    settings = Settings(
        data_dir=data_dir or Path("shipwise-test-data"),
        database_url=database_url,
        admin_token=admin_token,
        port=port,
        github_webhook_secret=github_webhook_secret,
        database_busy_timeout=database_busy_timeout,
        vercel_drain_secret=vercel_drain_secret,
        vercel_verify=vercel_verify,
    )
    services = build(settings) if clock is None else build(settings, clock)
    app = create_app(services)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,  # a guard: Server ends open streams before it
    )
    server = Server(config, app)  # as `shipwise serve` runs it
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield RunningServer(f"http://127.0.0.1:{port}", admin_token, services)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services.close()
