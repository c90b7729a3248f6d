"""A stand-in for Sentry's feature-flag change-tracking webhook (the "generic"
provider) on loopback: it checks ``X-Sentry-Signature`` (hex HMAC-SHA256 of the raw body
with the signing secret) and the body as Sentry's generic provider reads it, answers as
Sentry does (200 taken, 401 bad signature, 400 bad body) and records what it got.

Written from Sentry's wire format, not from Shipwise's sender: the signature is
computed here with the standard library."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACTIONS = {"created", "updated", "deleted"}
CREATED_BY_TYPES = {"email", "id", "name"}


def problems(document: Any) -> list[str]:
    """What Sentry's generic provider would refuse in ``document``; empty when valid."""
    if not isinstance(document, dict):
        return ["the body is not a JSON object"]
    found: list[str] = []
    meta = document.get("meta")
    if not isinstance(meta, dict) or type(meta.get("version")) is not int:
        found.append("meta.version must be an integer")
    data = document.get("data")
    if not isinstance(data, list):
        return [*found, "data must be a list"]
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            found.append(f"data[{i}] must be an object")
            continue
        if item.get("action") not in ACTIONS:
            found.append(f"data[{i}].action must be created, updated or deleted")
        if type(item.get("change_id")) is not int:
            found.append(f"data[{i}].change_id must be an integer")
        flag = item.get("flag")
        if not isinstance(flag, str) or not 0 < len(flag) <= 100:
            found.append(f"data[{i}].flag must be 1 to 100 characters")
        try:
            datetime.fromisoformat(str(item.get("created_at")))
        except ValueError:
            found.append(f"data[{i}].created_at must be an ISO 8601 time")
        by = item.get("created_by")
        if (
            not isinstance(by, dict)
            or not isinstance(by.get("id"), str)
            or not 0 < len(by["id"]) <= 100
            or by.get("type") not in CREATED_BY_TYPES
        ):
            found.append(f"data[{i}].created_by must have an id and a type (email, id, name)")
    return found


@dataclass
class SentryFlagWebhook:
    """The webhook's signing secret, and every request it took (valid or not)."""

    secret: str
    url: str = ""
    status: int | None = None  # answer this instead, whatever the request
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)  # from signed, valid bodies
    refused: list[str] = field(default_factory=list)  # why requests were refused

    def expected_signature(self, body: bytes) -> str:
        return hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()

    def take(self, headers: dict[str, str], body: bytes) -> int:
        self.requests.append((headers, body))
        if self.status is not None:
            return self.status
        given = headers.get("x-sentry-signature", "")
        if not hmac.compare_digest(given.encode(), self.expected_signature(body).encode()):
            self.refused.append("signature")
            return 401
        try:
            document = json.loads(body)
        except ValueError:
            self.refused.append("not JSON")
            return 400
        found = problems(document)
        if found:
            self.refused.extend(found)
            return 400
        self.changes.extend(document["data"])
        return 200


@contextmanager
def sentry_flag_webhook(
    secret: str = "sentry-signing-secret-0123456789",
) -> Iterator[SentryFlagWebhook]:
    hook = SentryFlagWebhook(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = hook.take({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,))
    thread.start()
    host, port = server.server_address[:2]
    hook.url = f"http://{host!s}:{port}/api/0/organizations/acme/flags/hooks/provider/generic/"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
