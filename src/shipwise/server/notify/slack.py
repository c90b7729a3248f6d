"""Slack channels: an incoming webhook, or a bot token and a channel.

An incoming webhook gets each notification as one message (``slack_blocks``). A bot
(``slack-sdk``'s ``WebClient``) gives a rollout *one* message: the first notification
of a plan is posted, and each later one updates that message in place
(``chat.update``) and is posted as a reply in its thread; the message's channel id and
``ts`` come back as the delivery's ``thread`` for the outbox to keep.

A 429 raises ``NotificationFailed`` carrying Slack's ``Retry-After``; the outbox waits
that long before trying the channel again, and paces each channel to one message a
second (``min_interval``). Messages never name the webhook URL or the token: both are
secrets.
"""

from __future__ import annotations

import logging
import urllib.error
from typing import Any

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from shipwise.server.notify import answers
from shipwise.server.notify.redact import hide_url
from shipwise.server.notify.slack_blocks import message
from shipwise.server.outbound_tls import client_context
from shipwise.server.ports import Delivered, Notification, NotificationFailed

MIN_INTERVAL = 1.0  # Slack: about one message a second per channel
DEFAULT_API = "https://slack.com/api/"
# slack-sdk logs requests at DEBUG (the token redacted); its own logger keeps them apart.
_SDK_LOG = logging.getLogger("shipwise.notify.slack_sdk")


def _retry_after(value: str | None) -> float:
    try:
        return max(1.0, float(value or 1))
    except ValueError:
        return 1.0


def thread_key(notification: Notification) -> str | None:
    """The thread a notification belongs to: a rollout plan's messages share one."""
    plan = notification.data.get("plan")
    if notification.kind.startswith("rollout.") and plan is not None:
        return f"rollout-plan:{plan}"
    return None


class SlackWebhookSender:
    """Posts to an incoming webhook (a secret URL)."""

    min_interval = MIN_INTERVAL

    def __init__(self, url: str, *, timeout: float = 5.0, name: str = "slack") -> None:
        parsed = httpx.URL(url)
        if parsed.scheme not in {"http", "https"} or not parsed.host:
            raise ValueError("webhook_url must be an http:// or https:// address")
        self._url = url
        hide_url(url)
        self._where = f"slack channel {name!r} (incoming webhook on {parsed.host})"
        self._timeout = timeout
        self._http = httpx.Client(timeout=timeout, follow_redirects=False, verify=client_context())

    def __repr__(self) -> str:  # never the URL: it is the secret
        return f"SlackWebhookSender({self._where!r})"

    def thread_key(self, notification: Notification) -> str | None:
        return None  # a webhook cannot update what it posted

    def send(self, notification: Notification, thread: str | None = None) -> Delivered:
        try:
            answer = answers.post(self._http, self._url, self._timeout, json=message(notification))
        except httpx.TimeoutException:
            raise NotificationFailed(
                f"{self._where}: no answer within {self._timeout:g} s"
            ) from None
        except httpx.HTTPError as error:
            raise NotificationFailed(f"{self._where}: {type(error).__name__}") from None
        said = answer.text.strip()[:200]
        status = answer.status
        if status == 429:
            wait = _retry_after(answer.headers.get("Retry-After"))
            raise NotificationFailed(
                f"{self._where} answered 429 (rate limited): retry after {wait:g} s",
                retry_after=wait,
            )
        if not answer.is_success:
            why = said or "no reason given"
            raise NotificationFailed(f"{self._where} answered {status} ({why})")
        return Delivered(said=f"Slack answered {status} {said or 'ok'}")

    def close(self) -> None:
        self._http.close()


class SlackBotSender:
    """Posts as a bot (a secret token) to ``channel``; rollouts as one updated message."""

    min_interval = MIN_INTERVAL

    def __init__(
        self,
        token: str,
        channel: str,
        *,
        api_url: str = DEFAULT_API,
        timeout: float = 5.0,
        name: str = "slack",
    ) -> None:
        if not channel:
            raise ValueError("channel is empty: name the Slack channel (#releases or its id)")
        self._channel = channel
        self._where = f"slack channel {name!r} ({channel})"
        self._timeout = timeout
        self._client = WebClient(
            token=token, base_url=api_url, timeout=max(1, round(timeout)), logger=_SDK_LOG
        )

    def __repr__(self) -> str:  # never the token
        return f"SlackBotSender({self._where!r})"

    def thread_key(self, notification: Notification) -> str | None:
        return thread_key(notification)

    def _call(self, method: str, **arguments: Any) -> dict[str, Any]:
        try:
            answer = self._client.api_call(method, json=arguments)
        except SlackApiError as error:
            status = error.response.status_code
            if status == 429:
                wait = _retry_after(error.response.headers.get("Retry-After"))
                raise NotificationFailed(
                    f"{self._where}: {method} answered 429 (rate limited): retry after {wait:g} s",
                    retry_after=wait,
                ) from None
            code = error.response.get("error") or "no reason given"
            raise NotificationFailed(
                f"{self._where}: {method} answered {status} ({code})"
            ) from None
        except (TimeoutError, urllib.error.URLError, OSError, SlackClientError) as error:
            why = "no answer in time" if "timed out" in str(error) else type(error).__name__
            raise NotificationFailed(f"{self._where}: {method}: {why}") from None
        return dict(answer.data) if isinstance(answer.data, dict) else {}

    def send(self, notification: Notification, thread: str | None = None) -> Delivered:
        body = message(notification)
        if thread is None:
            posted = self._call("chat.postMessage", channel=self._channel, **body)
            ref = f"{posted.get('channel', self._channel)} {posted.get('ts', '')}"
            keeps = thread_key(notification) is not None
            said = f"Slack posted message {posted.get('ts')}"
            return Delivered(said=said, thread=ref if keeps else None)
        channel_id, _, ts = thread.partition(" ")
        # chat.update takes the channel's id (which postMessage answered), not its name.
        self._call("chat.update", channel=channel_id, ts=ts, **body)
        reply = self._call("chat.postMessage", channel=channel_id, thread_ts=ts, **body)
        return Delivered(
            said=f"Slack updated message {ts} and replied {reply.get('ts')}", thread=thread
        )

    def close(self) -> None:
        """The WebClient opens a connection per call: nothing to release."""
