"""A real HTTP server on a free loopback port, answering from a function the test gives.

    with local_http_server(lambda request: Reply(200, {"value": 1})) as server:
        httpx.get(server.url + "/anything")

The server runs in a thread (one more thread per request) and is shut down, its socket
closed and its threads joined when the block ends. A slow answer waits on
``request.closing`` rather than sleeping, so the end of the test ends it at once.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    closing: threading.Event  # set when the server is shutting down
    body: bytes = b""  # what a POST carried

    def first(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None  # JSON unless ``raw`` is given
    raw: bytes | None = None
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body).encode()


Handler = Callable[[Request], Reply]


@dataclass
class LocalServer:
    url: str
    requests: list[Request]  # every request received, in order


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True  # server_close() joins the request threads

    def __init__(self, handle: Handler) -> None:
        super().__init__(("127.0.0.1", 0), _RequestHandler)
        self.handle_request_function = handle
        self.closing = threading.Event()
        self.received: list[Request] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a test's timeout) is expected; anything else is loud."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._answer("GET", b"")

    def do_POST(self) -> None:
        self._answer("POST", self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _answer(self, method: str, body: bytes) -> None:
        split = urlsplit(self.path)
        request = Request(
            method=method,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            closing=self.server.closing,
            body=body,
        )
        self.server.received.append(request)
        reply = self.server.handle_request_function(request)
        body = reply.encoded()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests say what they expect."""


@contextmanager
def local_http_server(handle: Handler) -> Iterator[LocalServer]:
    server = _Server(handle)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield LocalServer(f"http://{host!s}:{port}", server.received)
    finally:
        server.closing.set()
        server.shutdown()
        thread.join()
        server.server_close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
