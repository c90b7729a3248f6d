"""Stopping ``shipwise serve`` while streams are open: Ctrl-C (SIGINT) or SIGTERM ends
every open SDK stream and dashboard live stream at once and politely (each response
completes, so its client reconnects, to the next server), and the process exits 0
without a traceback, instead of waiting out uvicorn's graceful-shutdown timeout and
then cancelling the streams. A real server process on a temporary data directory, a
real SDK stream, a real signed-in live stream; ``--demo`` holds one more, its own
synthetic SDK client's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from tests.support.server import ADMIN_TOKEN, free_port

START_SECONDS = 60  # hang guards: a failure, not a measurement
EXIT_SECONDS = 30
STREAM_GUARD = httpx.Timeout(30, read=10)  # shorter than the streams' 15 s heartbeat
UNLEASH = "/api/client/streaming"


@contextmanager
def serve(data_dir: Path, *flags: str) -> Iterator[tuple[subprocess.Popen[str], httpx.Client]]:
    """``shipwise serve`` in a process of its own, and the admin's client for it."""
    port = free_port()
    # The server's own defaults: no SHIPWISE_* from outside, the admin token known.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SHIPWISE_")}
    environment["SHIPWISE_ADMIN_TOKEN"] = ADMIN_TOKEN
    command = [sys.executable, "-m", "shipwise.cli", "serve", *flags, "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--data-dir", str(data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as admin:
            deadline = time.monotonic() + START_SECONDS
            while not _healthy(admin):
                assert process.poll() is None, f"serve exited {process.returncode}"
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
            yield process, admin
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=EXIT_SECONDS)


def _healthy(admin: httpx.Client) -> bool:
    try:
        return admin.get("/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _secret(admin: httpx.Client, body: dict[str, str]) -> str:
    made = admin.post("/api/v1/tokens", json=body, timeout=30)
    assert made.status_code == 201, made.text
    return str(made.json()["secret"])


@contextmanager
def sdk_stream(
    admin: httpx.Client, path: str = "/sdk/v1/stream", first: str = "event: snapshot"
) -> Iterator[Iterator[str]]:
    """An SDK's stream (Shipwise's, or the Unleash streaming API's) with a server key
    for production, its first event read."""
    body = {"name": "sdk", "kind": "server", "project": "default", "environment": "production"}
    headers = {"Authorization": _secret(admin, body), "Accept": "text/event-stream"}
    with (
        httpx.Client(base_url=admin.base_url, headers=headers, timeout=STREAM_GUARD) as sdk,
        sdk.stream("GET", path) as response,
    ):
        assert response.status_code == 200, response.read()
        lines = response.iter_lines()
        _until(lines, first)
        yield lines


@contextmanager
def live_stream(admin: httpx.Client) -> Iterator[Iterator[str]]:
    """A signed-in browser's live stream of the default project, its greeting read."""
    body = {"name": "viewer", "kind": "api", "project": "default", "role": "viewer"}
    token = _secret(admin, body)
    with httpx.Client(base_url=admin.base_url, timeout=STREAM_GUARD) as browser:
        signed_in = browser.post("/sign-in", data={"token": token, "next": "/"})
        assert signed_in.status_code == 303, signed_in.text
        with browser.stream("GET", "/projects/default/live") as response:
            assert response.status_code == 200, response.read()
            lines = response.iter_lines()
            _until(lines, ": live")
            yield lines


def _until(lines: Iterator[str], wanted: str) -> None:
    """Read the stream to the end of the event (or comment) with the line ``wanted``."""
    seen: list[str] = []
    for line in lines:
        if not line and wanted in seen:
            return
        seen.append(line)
    raise AssertionError(f"the stream ended before {wanted!r}: {seen}")


def _stop(process: subprocess.Popen[str], how: signal.Signals) -> tuple[int, str]:
    process.send_signal(how)
    try:
        _out, err = process.communicate(timeout=EXIT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        _out, err = process.communicate()
        pytest.fail(f"serve did not stop within {EXIT_SECONDS} s of {how.name}:\n{err}")
    return process.returncode, err


def _rest(lines: Iterator[str]) -> list[str]:
    """What the stream still sends before it ends; a stream cut off mid-response (not
    ended by the server) raises httpx.RemoteProtocolError here."""
    return [line for line in lines if line and not line.startswith(":")]


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_serve__stopped_with_streams_open__ends_them_and_exits_0_without_a_traceback(
    tmp_path: Path, how: signal.Signals
) -> None:
    with serve(tmp_path / "data") as (process, admin), ExitStack() as streams:
        sdk = streams.enter_context(sdk_stream(admin))
        unleash = streams.enter_context(sdk_stream(admin, UNLEASH, "event: unleash-connected"))
        page = streams.enter_context(live_stream(admin))
        code, err = _stop(process, how)
        assert (code, err) == (0, "Shipwise stopped.\n")
        # Each stream was ended, not cut off; the live one without a "bye", which would
        # tell the page not to reconnect.
        assert _rest(sdk) == []
        assert _rest(unleash) == []
        assert _rest(page) == []


def test_serve_demo__stopped_with_streams_open__stops_its_traffic_and_exits_0(
    tmp_path: Path,
) -> None:
    with serve(tmp_path / "data", "--demo") as (process, admin), ExitStack() as streams:
        # The demo's own synthetic SDK client holds a stream too, once it is ready.
        deadline = time.monotonic() + START_SECONDS
        while admin.get("/health").json().get("streams", 0) < 1:
            assert time.monotonic() < deadline, "the demo traffic opened no stream"
            time.sleep(0.1)
        sdk = streams.enter_context(sdk_stream(admin))
        page = streams.enter_context(live_stream(admin))
        code, err = _stop(process, signal.SIGINT)
        assert (code, err) == (0, "Shipwise stopped.\n")
        assert _rest(sdk) == []
        assert _rest(page) == []
