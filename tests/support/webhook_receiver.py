"""A webhook receiver on a thread (stdlib ``http.server``) that checks each delivery as
docs/notifications.md tells receivers to, and records what it got."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shipwise.server.notify.webhook import verify_signature


@dataclass
class Receiver:
    """How the receiver answers, and what it received."""

    secret: str
    status: int | None = None  # answer this whatever the signature says
    hold: bool = False  # wait for ``release`` before answering
    release: threading.Event = field(default_factory=threading.Event)
    received: list[tuple[dict[str, str], bytes, bool]] = field(default_factory=list)
    url: str = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                valid = verify_signature(
                    receiver.secret,
                    headers.get("x-shipwise-timestamp"),
                    body,
                    headers.get("x-shipwise-signature"),
                    now=time.time(),
                )
                receiver.received.append((headers, body, valid))
                if receiver.hold:
                    receiver.release.wait(10)
                status = receiver.status or (204 if valid else 401)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up waiting: expected in the timeout test


@contextmanager
def webhook_receiver(secret: str) -> Iterator[Receiver]:
    receiver = Receiver(secret)
    server = QuietServer(("127.0.0.1", 0), receiver.handler())
    thread = threading.Thread(target=server.serve_forever, args=(0.01,))
    thread.start()
    host, port = server.server_address[:2]
    receiver.url = f"http://{host!s}:{port}/hooks/shipwise"
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()  # joins the handler threads
        thread.join(5)
