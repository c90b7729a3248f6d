"""The webhook notifier: each notification POSTed as signed JSON to one URL.

The body (``docs/notifications.md`` has it in full)::

    {"id": "<delivery id>", "type": "rollout.paused",
     "created_at": "2025-05-01T12:00:00+00:00", "data": {<Notification.to_dict()>}}

with the headers

    Content-Type: application/json
    User-Agent: Shipwise
    X-Shipwise-Delivery: <delivery id>
    X-Shipwise-Timestamp: <unix seconds when sent>
    X-Shipwise-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>

The delivery id is a UUID derived from the notification itself, so the server's retries
of one notification carry the same id and a receiver can drop the ones it has seen;
``created_at`` is when the thing happened (the notification's ``at``, in UTC), the
timestamp when this attempt was sent. A receiver checks the signature over the exact
bytes it received with ``verify_signature``, which also refuses timestamps more than
``tolerance`` seconds away from its clock, so a captured request cannot be replayed
later.

A 2xx is delivered (at most 64 KiB of the answer read, within the timeout: ``answers``).
Any other status (redirects are not followed), a timeout or a connection failure raises
``NotificationFailed`` naming the URL (without its query, user or password) and the
status; the server's outbox retries it with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from shipwise.server.notify import answers
from shipwise.server.outbound_tls import client_context
from shipwise.server.ports import Notification, NotificationFailed

USER_AGENT = "Shipwise"
SIGNATURE_PREFIX = "sha256="
# Delivery ids are uuid5(DELIVERY_NAMESPACE, the notification as canonical JSON).
DELIVERY_NAMESPACE = uuid.UUID("6f1c0b8e-3a52-5d0e-9c4b-5b1f0e7a2d41")


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def signature(secret: str | bytes, timestamp: str | int, body: str | bytes) -> str:
    """The ``X-Shipwise-Signature`` value for ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode() + b"." + _bytes(body)
    digest = hmac.new(_bytes(secret), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(
    secret: str | bytes,
    timestamp: str | int | None,
    body: str | bytes,
    header: str | None,
    *,
    now: float,
    tolerance: float = 300,
) -> bool:
    """True if ``header`` (``X-Shipwise-Signature``) signs ``body`` (the raw request
    body, exactly as received) with ``secret`` at ``timestamp``
    (``X-Shipwise-Timestamp``), and that timestamp is within ``tolerance`` seconds of
    ``now`` (unix seconds). Pure: a receiver passes its own clock."""
    if timestamp is None or header is None:
        return False
    raw = str(timestamp).strip()
    try:
        sent = int(raw)
    except ValueError:
        return False
    if abs(now - sent) > tolerance:
        return False
    expected = signature(secret, raw, body)
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def delivery_id(notification: Notification) -> str:
    """The same for every attempt at one notification, different for another."""
    facts = notification.to_dict()
    facts["at"] = _utc(notification.at).isoformat()
    canonical = json.dumps(facts, sort_keys=True, separators=(",", ":"), default=str)
    return str(uuid.uuid5(DELIVERY_NAMESPACE, canonical))


def payload(notification: Notification) -> dict[str, Any]:
    """The JSON document a receiver gets."""
    return {
        "id": delivery_id(notification),
        "type": notification.kind,
        "created_at": _utc(notification.at).isoformat(),
        "data": notification.to_dict(),
    }


def _shown(url: httpx.URL) -> str:
    """The URL for messages: no user, password or query, which may hold credentials."""
    shown = url.copy_with(username=None, password=None, query=None, fragment=None)
    return str(shown) + ("?…" if url.query else "")


class WebhookNotifier:
    """POSTs signed notifications to ``url``; one HTTP client, released by ``close``."""

    def __init__(
        self,
        url: str,
        secret: str | bytes,
        *,
        timeout: float = 5.0,
        name: str = "webhook",
        clock: Callable[[], float] = time.time,
    ) -> None:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            parsed = None
        if parsed is None or parsed.scheme not in {"http", "https"} or not parsed.host:
            raise ValueError(f"the webhook url must be an http:// or https:// address, got {url!r}")
        if not secret:
            raise ValueError("the webhook secret is empty: receivers verify signatures with it")
        if not timeout > 0:
            raise ValueError("the webhook timeout must be a positive number of seconds")
        self.name = name
        self.url = url
        self._shown = _shown(parsed)
        self._secret = _bytes(secret)
        self._timeout = timeout
        self._clock = clock
        self._http = httpx.Client(timeout=timeout, follow_redirects=False, verify=client_context())

    def __repr__(self) -> str:  # never the secret
        return f"WebhookNotifier({self._shown!r}, name={self.name!r})"

    def send(self, notification: Notification) -> None:
        document = payload(notification)
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str)
        content = body.encode()
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Shipwise-Delivery": document["id"],
            "X-Shipwise-Timestamp": timestamp,
            "X-Shipwise-Signature": signature(self._secret, timestamp, content),
        }
        where = f"webhook {self._shown}"
        try:
            response = answers.post(
                self._http, self.url, self._timeout, content=content, headers=headers
            )
        except httpx.TimeoutException:
            raise NotificationFailed(f"{where}: no answer within {self._timeout:g} s") from None
        except httpx.ConnectError as error:
            raise NotificationFailed(f"{where}: cannot connect ({error})") from None
        except httpx.HTTPError as error:
            raise NotificationFailed(f"{where}: {type(error).__name__}: {error}") from None
        if not response.is_success:
            status = response.status
            why = response.reason or "no reason given"
            if response.is_redirect:
                why += "; redirects are not followed: configure the final address"
            raise NotificationFailed(f"{where} answered {status} ({why})")

    def close(self) -> None:
        self._http.close()
