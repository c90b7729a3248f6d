"""``shipwise serve`` as an operator runs it: a real process on a free port with a data
directory of its own, printing the URL and the first admin token once."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tests.support.server import free_port

STARTUP_SECONDS = 30


@dataclass
class ServeProcess:
    process: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)

    def admin_token(self) -> str | None:
        prefix = "export SHIPWISE_TOKEN="
        found = [line.strip()[len(prefix) :] for line in self.lines if prefix in line]
        return found[0] if found else None


@contextmanager
def serving(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[ServeProcess]:
    """``python -m shipwise.cli serve`` until it answers /health; stopped with SIGTERM."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SHIPWISE_")} | (
        env or {}
    )
    command = [sys.executable, "-m", "shipwise.cli", "serve", "--data-dir", str(data_dir)]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    assert process.stdout is not None
    output = process.stdout
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in output], daemon=True)
    reader.start()
    serve = ServeProcess(process, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(serve.url):
            assert process.poll() is None, f"serve exited {process.returncode}: {serve.lines}"
            assert time.monotonic() < deadline, f"serve did not start: {serve.lines}"
            time.sleep(0.05)
        time.sleep(0.1)  # the announcement is printed before the server listens
        while not lines.empty():
            serve.lines.append(lines.get())
        yield serve
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        reader.join(timeout=5)
        output.close()
        while not lines.empty():
            serve.lines.append(lines.get())


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_serve__first_start__prints_url_and_admin_token_once(tmp_path: Path) -> None:
    # Given an empty data directory
    data_dir = tmp_path / "data"

    # When the server starts for the first time
    with serving(data_dir) as first:
        token = first.admin_token()
        assert token is not None, first.lines
        assert any(f"export SHIPWISE_URL={first.url}" in line for line in first.lines)
        assert (data_dir / "shipwise.db").exists()

        # Then the printed token is the admin of the admin API
        headers = {"Authorization": f"Bearer {token}"}
        projects = httpx.get(f"{first.url}/api/v1/projects", headers=headers, timeout=10)
        assert projects.status_code == 200, projects.text
        assert [p["key"] for p in projects.json()["projects"]] == ["default"]
        stranger = {"Authorization": "Bearer sw_api_not-a-token"}
        assert httpx.get(f"{first.url}/api/v1/projects", headers=stranger).status_code == 401

    # And it stops cleanly on SIGTERM
    assert first.process.returncode == 0, first.lines

    # When it starts again on the same data directory
    with serving(data_dir) as second:
        # Then it says where it serves, and the secret is not shown again
        assert any(f"serving {second.url}" in line for line in second.lines), second.lines
        assert second.admin_token() is None
        assert token not in "".join(second.lines)


def test_serve__admin_token_from_environment__is_used_and_not_printed(tmp_path: Path) -> None:
    chosen = "sw_api_chosen-by-the-operator"
    with serving(tmp_path / "data", {"SHIPWISE_ADMIN_TOKEN": chosen}) as serve:
        assert serve.admin_token() is None
        assert chosen not in "".join(serve.lines)
        headers = {"Authorization": f"Bearer {chosen}"}
        response = httpx.get(f"{serve.url}/api/v1/projects", headers=headers, timeout=10)
        assert response.status_code == 200, response.text


def test_serve__with_a_shipwise_variable_it_cannot_use__exits_2_naming_it(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SHIPWISE_")}
    environment["SHIPWISE_PUBLIC_URL"] = "ftp://releases.example"
    command = [sys.executable, "-m", "shipwise.cli", "serve", "--data-dir", str(tmp_path)]

    done = subprocess.run(
        [*command, "--port", str(free_port())],
        capture_output=True,
        text=True,
        env=environment,
        timeout=STARTUP_SECONDS,
        check=False,
    )

    assert done.returncode == 2, done.stdout + done.stderr
    assert "SHIPWISE_PUBLIC_URL must be an absolute http:// or https:// address" in done.stderr
    assert "Traceback" not in done.stderr
