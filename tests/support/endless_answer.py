"""An HTTP receiver on loopback whose 200 answer a client should not read to its end:
``huge`` sends ``HUGE`` bytes in 64 KiB chunks as fast as the client takes them,
``dripping`` one byte every 0.2 s and never ends. A client that reads the whole answer
takes it all into memory (huge) or hangs (dripping); one that bounds what it reads hangs
up early, and ``sent`` (the bytes written before it did) stays far below ``HUGE``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HUGE = 32 * 1024 * 1024


@dataclass
class EndlessAnswer:
    url: str = ""
    sent: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)


def _handler(receiver: EndlessAnswer, mode: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            piece = b"o" * (64 * 1024 if mode == "huge" else 1)
            chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
            try:
                while not receiver._stop.is_set() and receiver.sent < HUGE:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    receiver.sent += len(piece)
                    if mode == "dripping":
                        receiver._stop.wait(0.2)
                self.wfile.write(b"0\r\n\r\n")  # the end of a huge answer
            except OSError:  # the client stopped reading and hung up
                pass
            self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def endless_answer(mode: str) -> Iterator[EndlessAnswer]:
    receiver = EndlessAnswer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver, mode))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/T000/B000/secret-path"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver._stop.set()
        server.shutdown()
        server.server_close()
