"""A real Prometheus for tests, scraping a tiny exporter whose counters the test sets.

``exporter()`` serves ``/metrics`` in Prometheus's text format from a ``Counters`` table;
``running_prometheus(tmp_path, targets)`` starts the ``prometheus`` binary (Debian's
package; scripts/test installs it and sets SHIPWISE_TEST_PROMETHEUS) on a free loopback
port with a throw-away TSDB, scraping the targets every second, and stops it afterwards.
``wait_for`` polls until a query sees what the test set up. Without the binary the tests
fail, saying to run scripts/test: a suite that skipped its Prometheus tests would pass
for the wrong reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from tests.support.local_http import Reply, Request, local_http_server

T = TypeVar("T")
SCRAPE_INTERVAL_SECONDS = 1


class Counters:
    """Counter series the exporter shows: a value, or a rate per second from now on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fixed: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._growing: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, float]] = {}

    def set(self, name: str, value: float, **labels: str) -> None:
        with self._lock:
            self._fixed[(name, tuple(sorted(labels.items())))] = value

    def grow(self, name: str, per_second: float, **labels: str) -> None:
        """A counter that rises steadily by ``per_second`` from 0, starting now."""
        with self._lock:
            self._growing[(name, tuple(sorted(labels.items())))] = (time.time(), per_second)

    def exposition(self) -> str:
        now = time.time()
        with self._lock:
            values = dict(self._fixed)
            for key, (since, per_second) in self._growing.items():
                values[key] = (now - since) * per_second
        lines: list[str] = []
        for name in sorted({name for name, _ in values}):
            lines.append(f"# TYPE {name} counter")
            for (series, labels), value in sorted(values.items()):
                if series == name:
                    pairs = ",".join(f'{key}="{label}"' for key, label in labels)
                    lines.append(f"{name}{{{pairs}}} {value}" if pairs else f"{name} {value}")
        return "\n".join(lines) + "\n"


@dataclass
class Exporter:
    address: str  # host:port, for a scrape target
    counters: Counters


@contextmanager
def exporter() -> Iterator[Exporter]:
    counters = Counters()

    def handle(request: Request) -> Reply:
        if request.path != "/metrics":
            return Reply(404, raw=b"not found", content_type="text/plain")
        return Reply(raw=counters.exposition().encode(), content_type="text/plain; version=0.0.4")

    with local_http_server(handle) as server:
        yield Exporter(server.url.removeprefix("http://"), counters)


@dataclass
class Prometheus:
    url: str
    log: Path


def prometheus_binary() -> str:
    """SHIPWISE_TEST_PROMETHEUS (scripts/test sets it), else ``prometheus`` on PATH."""
    found = os.environ.get("SHIPWISE_TEST_PROMETHEUS") or shutil.which("prometheus")
    if not found or not os.access(found, os.X_OK):
        pytest.fail(
            "The prometheus binary is missing: run scripts/test, which installs it "
            "(Debian: apt-get install prometheus)",
            pytrace=False,
        )
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_prometheus(directory: Path, targets: list[str]) -> Iterator[Prometheus]:
    binary = prometheus_binary()
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "prometheus.yml"
    quoted = ", ".join(f'"{target}"' for target in targets)
    config.write_text(
        "global:\n"
        f"  scrape_interval: {SCRAPE_INTERVAL_SECONDS}s\n"
        f"  scrape_timeout: {SCRAPE_INTERVAL_SECONDS}s\n"
        f"  evaluation_interval: {SCRAPE_INTERVAL_SECONDS}s\n"
        "scrape_configs:\n"
        "  - job_name: app\n"
        f"    static_configs:\n      - targets: [{quoted}]\n"
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = directory / "prometheus.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            _wait_ready(url, process, log)
            yield Prometheus(url, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    with httpx.Client(timeout=1) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"prometheus exited with {process.returncode}:\n{log.read_text()}")
            try:
                if client.get(f"{url}/-/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    pytest.fail(f"prometheus did not become ready at {url} within 30 s:\n{log.read_text()}")


def wait_for(read: Callable[[], T], until: Callable[[T], bool], timeout: float = 30) -> T:
    """``read()`` again until ``until`` holds for its result; the last result otherwise
    fails the test, with that result in the message."""
    deadline = time.monotonic() + timeout
    while True:
        result = read()
        if until(result):
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"still {result!r} after {timeout} s")
        time.sleep(0.25)
