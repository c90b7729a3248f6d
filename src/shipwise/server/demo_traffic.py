"""Synthetic users for the demo server, so its rollout has numbers to judge.

``shipwise serve --demo`` starts this beside the server: a daemon thread that, once the
server answers, runs the real Python SDK against it with a server key for production
(made on the first demo start and kept in the data directory, so later starts reuse it
instead of issuing another). A few hundred users a second are evaluated on the demo's
rollout flags (exposures) and some of them ``track`` an error (the guardrail's metric):
more of those who have a faulty feature on (``demo_cycle.error_rate``). The SDK sends
both through the ordinary push path every two seconds. Beside it runs the thread that
starts the demo's next rollout when one ends (``demo_cycle``); ``stop`` ends both.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from shipwise.sdk import Client
from shipwise.server.demo_cycle import FEATURES, error_rate, start_demo_cycle
from shipwise.server.demo_world import DEMO_PROJECT, ERROR_EVENT
from shipwise.server.services.principal import SYSTEM

if TYPE_CHECKING:
    from shipwise.server.bootstrap import Services
    from shipwise.server.settings import Settings

__all__ = ["KEY_FILE", "DemoTraffic", "start_demo_traffic"]

KEY_FILE = "demo-sdk-key"
USERS = 5_000  # distinct synthetic users
USERS_PER_TICK = 20
TICK_SECONDS = 0.05
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0  # the SDK's close: its stream, its last counts (2 s guards each)

log = logging.getLogger("shipwise.demo")


def _sdk_key(services: Services, data_dir: Path) -> str:
    path = data_dir / KEY_FILE
    if path.exists():
        return path.read_text().strip()
    issued = services.tokens.create(
        SYSTEM,
        name="demo traffic",
        kind="server",
        project_key=DEMO_PROJECT,
        environment_key="production",
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(issued.secret + "\n")
    return issued.secret


def _wait_for(url: str, stop: threading.Event) -> bool:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        stop.wait(0.2)
    return False


def _drive(url: str, key: str, stop: threading.Event) -> None:
    if not _wait_for(url, stop):
        log.warning("demo traffic: the server did not answer at %s; no synthetic users", url)
        return
    rng = random.Random()
    client = Client(url, key, app_name="demo-traffic", metrics_interval=2.0)
    try:
        client.wait_until_ready(10)
        while not stop.wait(TICK_SECONDS):
            for _ in range(USERS_PER_TICK):
                context = {"userId": f"user-{rng.randrange(USERS)}"}
                enabled = {f.flag for f in FEATURES if client.is_enabled(f.flag, context)}
                if rng.random() < error_rate(enabled):
                    client.track(ERROR_EVENT, context)
    finally:
        client.close()


class DemoTraffic:
    """The running synthetic users."""

    def __init__(self, threads: list[threading.Thread], stop: threading.Event) -> None:
        self._threads = threads  # the users, and the demo's next rollouts (demo_cycle)
        self._stop = stop

    def stop(self) -> None:
        """Stop them and wait while the SDK closes: its stream ends, and the counts not
        yet sent reach the server, which must still be listening (it blocks: call it
        off the event loop)."""
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(STOP_TIMEOUT_S)


def start_demo_traffic(services: Services, settings: Settings) -> DemoTraffic:
    """Start the synthetic users, and the thread that starts the demo's next rollouts."""
    # A server listening on every interface is reached on loopback.
    wildcard = settings.host in ("0.0.0.0", "::", "[::]")  # noqa: S104
    host = "127.0.0.1" if wildcard else settings.host
    url = f"http://{'[' + host + ']' if ':' in host else host}:{settings.port}"
    key = _sdk_key(services, settings.data_dir)
    stop = threading.Event()
    thread = threading.Thread(
        target=_drive, args=(url, key, stop), name="demo-traffic", daemon=True
    )
    thread.start()
    return DemoTraffic([thread, start_demo_cycle(services, stop)], stop)
