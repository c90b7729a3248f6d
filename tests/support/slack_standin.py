"""A stand-in for Slack on 127.0.0.1: an incoming webhook and the Web API's
``chat.postMessage`` and ``chat.update``, with Slack's limits checked on every message.

Each message must carry a non-empty plain-text ``text`` and Block Kit ``blocks``: at
most 50, a header's plain text at most 150 characters, a section's text at most 3,000,
and mrkdwn with no raw ``<``/``>`` and no ``&`` outside ``&amp;``, ``&lt;``, ``&gt;``
(Shipwise writes no links or mentions, so any is unescaped text). A message that breaks
a limit is answered as Slack does (400 ``invalid_blocks``) and its problems recorded.

``posts`` records every accepted message, ``updates`` every accepted ``chat.update``;
``refuse(status, times, retry_after)`` answers the next requests with that status (a 429
with ``Retry-After``); ``hold()`` keeps requests waiting until ``release()`` (at most
30 s); ``arrived`` counts requests as they come, held or not.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WEBHOOK_PATH = "/services/T0SHIP/B0SHIP/standin-webhook-secret-path"
TOKEN = "xoxb-standin-bot-token-4711"
CHANNEL_ID = "C0RELEASES"
_BAD_AMP = re.compile(r"&(?!amp;|lt;|gt;)")


def block_kit_problems(body: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append("no plain-text fallback `text`")
    blocks = body.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return [*problems, "no blocks"]
    if len(blocks) > 50:
        problems.append(f"{len(blocks)} blocks (at most 50)")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        texts: list[dict[str, Any]] = []
        if kind == "header":
            if len(block["text"]["text"]) > 150 or block["text"]["type"] != "plain_text":
                problems.append(f"block {i}: header over 150 characters or not plain text")
        elif kind == "section":
            texts.append(block["text"])
            if len(block["text"]["text"]) > 3000:
                problems.append(f"block {i}: section text over 3,000 characters")
        elif kind == "context":
            texts.extend(block["elements"])
        else:
            problems.append(f"block {i}: unexpected type {kind!r}")
        for item in texts:
            if item.get("type") == "mrkdwn":
                value = item["text"]
                if "<" in value or ">" in value or _BAD_AMP.search(value):
                    problems.append(f"block {i}: unescaped <, > or & in mrkdwn")
    return problems


@dataclass
class Message:
    via: str  # "webhook", "chat.postMessage", "chat.update"
    body: dict[str, Any]
    ts: str | None = None


@dataclass
class SlackStandin:
    base: str = ""
    posts: list[Message] = field(default_factory=list)
    updates: list[Message] = field(default_factory=list)
    problems: list[list[str]] = field(default_factory=list)
    requests: int = 0
    arrived: int = 0  # requests that reached the stand-in, answered or still held
    _refusals: list[tuple[int, float | None]] = field(default_factory=list)
    _open: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _known_ts: set[str] = field(default_factory=set)

    @property
    def webhook_url(self) -> str:
        return self.base + WEBHOOK_PATH

    @property
    def api_url(self) -> str:
        return self.base + "/api/"

    def refuse(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        with self._lock:
            self._refusals.extend([(status, retry_after)] * times)

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def answer(
        self, path: str, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            self.arrived += 1
        self._open.wait(30)
        with self._lock:
            self.requests += 1
            if self._refusals:
                status, retry_after = self._refusals.pop(0)
                extra = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
                error = "ratelimited" if status == 429 else "internal_error"
                return (
                    status,
                    extra,
                    error if path == WEBHOOK_PATH else {"ok": False, "error": error},
                )
            problems = block_kit_problems(body)
            if problems:
                self.problems.append(problems)
                return (
                    400,
                    {},
                    "invalid_blocks"
                    if path == WEBHOOK_PATH
                    else {"ok": False, "error": "invalid_blocks"},
                )
            if path == WEBHOOK_PATH:
                self.posts.append(Message("webhook", body))
                return 200, {}, "ok"
            if headers.get("authorization") != f"Bearer {TOKEN}":
                return 200, {}, {"ok": False, "error": "invalid_auth"}
            method = path.removeprefix("/api/")
            if method == "chat.postMessage":
                if body.get("channel") not in {CHANNEL_ID, "#releases"}:
                    return 200, {}, {"ok": False, "error": "channel_not_found"}
                ts = f"1700000000.{next(self._ts):06d}"
                self._known_ts.add(ts)
                self.posts.append(Message(method, body, ts))
                return 200, {}, {"ok": True, "channel": CHANNEL_ID, "ts": ts}
            if method == "chat.update":
                if body.get("channel") != CHANNEL_ID:  # Slack wants the id here, not the name
                    return 200, {}, {"ok": False, "error": "channel_not_found"}
                if body.get("ts") not in self._known_ts:
                    return 200, {}, {"ok": False, "error": "message_not_found"}
                self.updates.append(Message(method, body, body["ts"]))
                return 200, {}, {"ok": True, "channel": CHANNEL_ID, "ts": body["ts"]}
            return 404, {}, {"ok": False, "error": "unknown_method"}


def _handler(standin: SlackStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, answer = standin.answer(self.path, headers, body)
            payload = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
            self.send_response(status)
            kind = "text/plain" if isinstance(answer, str) else "application/json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads ``posts``."""

    return Handler


@contextmanager
def slack_standin() -> Iterator[SlackStandin]:
    standin = SlackStandin()
    standin.release()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(standin))
    server.daemon_threads = True
    standin.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        standin.release()
        server.shutdown()
        server.server_close()
