"""Flag changes to Sentry's feature-flag change tracking: the sender of a
``sentry-flags`` channel, which POSTs each change of a project's flags to the "generic"
webhook Sentry gives (Settings → Feature Flags → Change Tracking → Generic), so Sentry
can name a flag changed shortly before an issue began as a suspect.

The body, as Sentry's generic provider reads it (at most one change per request here)::

    {"data": [{"action": "updated", "change_id": 8061594, "flag": "new-checkout",
               "created_at": "2025-05-01T12:00:00+00:00",
               "created_by": {"id": "alice", "type": "name"}}],
     "meta": {"version": 1}}

with ``X-Sentry-Signature: <hex HMAC-SHA256(signing secret, the exact body)>`` (no
prefix, no timestamp: Sentry's scheme, not Shipwise's webhook one). ``action`` is
``created``, ``updated`` or ``deleted`` (an archived flag); ``change_id`` names the
change (the same for every retry of it).

A notification of another kind (the channel's test, or an event a person subscribed the
channel to by mistake) goes as an empty batch, ``"data": []``: Sentry checks the
signature and records nothing, so the test proves the address and the secret. A 2xx is
delivered; anything else, a timeout or a refused connection raises
``NotificationFailed`` naming the host, never the URL (Sentry's webhook address carries
the organisation) nor the secret; the outbox retries it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from shipwise.server.notify import answers
from shipwise.server.outbound_tls import client_context
from shipwise.server.ports import Delivered, Notification, NotificationFailed

FLAG_CHANGED = "flag.changed"  # the notification kind flag changes travel as
ACTIONS = frozenset({"created", "updated", "deleted"})
SIGNATURE_HEADER = "X-Sentry-Signature"
USER_AGENT = "Shipwise"


def signature(secret: str, body: bytes) -> str:
    """The ``X-Sentry-Signature`` of ``body``."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def change_of(notification: Notification) -> dict[str, Any] | None:
    """The change a ``flag.changed`` notification reports, as Sentry reads it; None for
    any other notification."""
    data = notification.data
    if notification.kind != FLAG_CHANGED or data.get("action") not in ACTIONS:
        return None
    return {
        "action": data["action"],
        "change_id": int(data["change_id"]),
        "flag": str(notification.flag),
        "created_at": notification.at.isoformat(),
        "created_by": {"id": str(data.get("actor") or "shipwise")[:100], "type": "name"},
    }


def body_of(notification: Notification) -> bytes:
    change = change_of(notification)
    document = {"data": [] if change is None else [change], "meta": {"version": 1}}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


class SentryFlagsSender:
    """Sends flag changes to one Sentry change-tracking webhook; one HTTP client."""

    min_interval = 0.0

    def __init__(self, url: str, secret: str, *, timeout: float, name: str) -> None:
        parsed = httpx.URL(url)
        if parsed.scheme not in {"http", "https"} or not parsed.host:
            raise ValueError("the Sentry webhook url must be an http:// or https:// address")
        if not secret:
            raise ValueError("the Sentry signing secret is empty: Sentry checks it")
        self._url = url
        self._secret = secret
        self._timeout = timeout
        self._where = f"sentry-flags channel {name!r} on {parsed.host}"
        self._http = httpx.Client(timeout=timeout, follow_redirects=False, verify=client_context())

    def __repr__(self) -> str:  # never the URL nor the secret
        return f"SentryFlagsSender({self._where!r})"

    def thread_key(self, notification: Notification) -> str | None:
        return None

    def send(self, notification: Notification, thread: str | None = None) -> Delivered:
        content = body_of(notification)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: signature(self._secret, content),
        }
        where = self._where
        try:
            answer = answers.post(
                self._http, self._url, self._timeout, content=content, headers=headers
            )
        except httpx.TimeoutException:
            raise NotificationFailed(f"{where}: no answer within {self._timeout:g} s") from None
        except httpx.HTTPError as error:
            raise NotificationFailed(f"{where}: cannot reach it ({type(error).__name__})") from None
        if not answer.is_success:
            why = answer.reason or "no reason given"
            if answer.status in (401, 403):
                why += "; check the signing secret Sentry shows for the Generic provider"
            raise NotificationFailed(f"{where} answered {answer.status} ({why})")
        change = change_of(notification)
        if change is None:
            return Delivered(
                said="Sentry accepted a signed empty batch (it hears flag changes only)"
            )
        return Delivered(
            said=f"Sentry took the change of flag {change['flag']!r} ({change['action']})"
        )

    def close(self) -> None:
        self._http.close()
