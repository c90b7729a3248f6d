"""Start real Shipwise servers for benchmarks: separate processes, loopback only."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ADMIN_TOKEN = "sw_api_bench-admin-token"
_SERVE = (
    "import sys\n"
    "from pathlib import Path\n"
    "from shipwise.server.serve import serve\n"
    "from shipwise.server.settings import Settings\n"
    "serve(Settings(data_dir=Path(sys.argv[1]), database_url=sys.argv[2] or None,\n"
    "               admin_token=sys.argv[3], host='127.0.0.1', port=int(sys.argv[4])))\n"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ShipwiseProcess:
    url: str
    process: subprocess.Popen[bytes]

    def admin(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@contextmanager
def shipwise_server(data_dir: Path, database_url: str | None = None) -> Iterator[ShipwiseProcess]:
    """One `shipwise serve` process; waits until /health answers."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-c",
        _SERVE,
        str(data_dir),
        database_url or "",
        ADMIN_TOKEN,
        str(port),
    ]
    log_path = data_dir / "server.log"  # a file, not a pipe nobody drains
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ)
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                error = log_path.read_text(errors="replace")
                raise RuntimeError(f"shipwise serve exited: {error[-2000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("shipwise serve did not answer /health within 60 s")
            time.sleep(0.1)
        yield ShipwiseProcess(url, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def shipwise_servers(
    count: int, base: Path, database_url: str | None
) -> Iterator[list[ShipwiseProcess]]:
    """``count`` instances on one database (several need PostgreSQL)."""
    with ExitStack() as stack:
        servers = []
        for index in range(count):
            servers.append(stack.enter_context(shipwise_server(base / f"i{index}", database_url)))
        yield servers
