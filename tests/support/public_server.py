"""A seeded Shipwise for the tests of the public routes: the flags of ``flag_shapes``, a
server key, a frontend key and a GitHub webhook secret, on SQLite, run as a real
``shipwise serve`` process. In a process of its own, a crash of the server (a segfault
in an extension) is a failed request in the test, not the end of the test run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.support.flag_shapes import ENVIRONMENT, PROJECT, Seeded, _in, rules
from tests.support.server import ADMIN_TOKEN, free_port

from shipwise.server.bootstrap import Services, build
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import Settings

WEBHOOK_SECRET = "whsec-for-tests-only"
STARTUP_SECONDS = 30
UNSAVABLE = {"bad-payload"}  # a rule the server refuses since rules are validated


@dataclass(frozen=True)
class PublicServer:
    url: str
    seeded: Seeded
    database: Path
    process: subprocess.Popen[bytes]

    def headers(self, whose: str) -> dict[str, str]:
        """Authorization as ``server``, ``frontend`` or ``admin``."""
        secret = {"server": self.seeded.server_key, "frontend": self.seeded.frontend_key}
        return {"Authorization": f"Bearer {secret.get(whose, ADMIN_TOKEN)}"}

    def alive(self) -> bool:
        return self.process.poll() is None


def seed_shapes(services: Services) -> Seeded:
    """Every flag of ``flag_shapes`` the server accepts, and a server and a frontend key."""
    segment = services.segments.save(
        SYSTEM, PROJECT, "beta-countries", [_in("country", "NO", "SE")]
    )
    shapes = {k: v for k, v in rules(segment.id).items() if k not in UNSAVABLE}
    for key, config in shapes.items():
        services.flags.create(SYSTEM, PROJECT, key)
        services.flags.update_rules(
            SYSTEM, PROJECT, key, ENVIRONMENT, config, expected_version=None
        )
    server_key, frontend_key = (
        services.tokens.create(
            SYSTEM, name=f"{kind} key", kind=kind, project_key=PROJECT, environment_key=ENVIRONMENT
        ).secret
        for kind in ("server", "frontend")
    )
    environment_id = services.tokens.authenticate(server_key).environment_id
    assert environment_id is not None
    return Seeded(server_key, frontend_key, environment_id, tuple(shapes))


@contextmanager
def public_server(data_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[PublicServer]:
    """``shipwise serve`` on a seeded SQLite database in ``data_dir`` (the runner off, so
    nothing changes the database but requests), until it answers /health; stopped after."""
    services = build(Settings(data_dir=data_dir, admin_token=ADMIN_TOKEN))
    try:
        seeded = seed_shapes(services)
    finally:
        services.close()
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SHIPWISE_")}
    environment |= {
        "SHIPWISE_GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SHIPWISE_RUNNER": "0",
        **(env or {}),
    }
    command = [sys.executable, "-m", "shipwise.cli", "serve", "--data-dir", str(data_dir)]
    log = (data_dir / "serve.log").open("wb")  # what the server said, should a test fail
    process = subprocess.Popen(
        [*command, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=environment
    )
    server = PublicServer(f"http://127.0.0.1:{port}", seeded, data_dir / "shipwise.db", process)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(server.url):
            assert process.poll() is None, f"serve exited {process.returncode}"
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.05)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        log.close()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
