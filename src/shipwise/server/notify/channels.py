"""The ``ChannelSenders`` port: a channel's configuration (its secrets opened) in, the
sender of its kind out. One builder per kind, in a table."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from shipwise.server.notify.email import EmailSender
from shipwise.server.notify.log import LogNotifier
from shipwise.server.notify.redact import hide_url
from shipwise.server.notify.sentry_flags import SentryFlagsSender
from shipwise.server.notify.slack import DEFAULT_API, SlackBotSender, SlackWebhookSender
from shipwise.server.notify.webhook import WebhookNotifier
from shipwise.server.notify.webhook import _shown as shown_url
from shipwise.server.ports import (
    ChannelConfig,
    ChannelSender,
    Delivered,
    Notification,
    NotificationFailed,
    Notifier,
)


class NotifierSender:
    """A notifier of the server-wide kind (log, signed webhook) as a channel's sender."""

    min_interval = 0.0

    def __init__(self, notifier: Notifier, said: str, hide: tuple[str, str] | None = None) -> None:
        self._notifier = notifier
        self._said = said
        self._hide = hide  # (what the notifier's messages show, what to show instead)

    def __repr__(self) -> str:
        return f"NotifierSender({self._notifier!r})"

    def thread_key(self, notification: Notification) -> str | None:
        return None

    def send(self, notification: Notification, thread: str | None = None) -> Delivered:
        try:
            self._notifier.send(notification)
        except NotificationFailed as failure:
            if self._hide is None:
                raise
            shown, instead = self._hide
            message = str(failure).replace(shown, instead)
            raise NotificationFailed(message, retry_after=failure.retry_after) from None
        return Delivered(said=self._said)

    def close(self) -> None:
        close = getattr(self._notifier, "close", None)
        if close is not None:
            close()


def _slack(config: ChannelConfig, timeout: float) -> ChannelSender:
    if config.secrets.get("webhook_url"):
        return SlackWebhookSender(config.secrets["webhook_url"], timeout=timeout, name=config.name)
    return SlackBotSender(
        config.secrets.get("token", ""),
        str(config.settings.get("channel") or ""),
        api_url=str(config.settings.get("api_url") or DEFAULT_API),
        timeout=timeout,
        name=config.name,
    )


def _email(config: ChannelConfig, timeout: float) -> ChannelSender:
    settings = config.settings
    return EmailSender(
        host=str(settings["host"]),
        port=int(settings["port"]),
        security=str(settings.get("security", "starttls")),
        sender=str(settings["from"]),
        recipients=[str(r) for r in settings.get("recipients") or []],
        user=settings.get("user") or None,
        password=config.secrets.get("password"),
        timeout=max(timeout, 10.0),
        name=config.name,
    )


def _webhook(config: ChannelConfig, timeout: float) -> ChannelSender:
    url = httpx.URL(config.secrets["url"])
    hide_url(config.secrets["url"])
    notifier = WebhookNotifier(
        str(url), config.secrets["secret"], timeout=timeout, name=config.name
    )
    # The URL is the channel's secret (its path may carry a token): messages name the host.
    hide = (f"webhook {shown_url(url)}", f"webhook channel {config.name!r} on {url.host}")
    return NotifierSender(notifier, "the webhook answered with a 2xx", hide)


def _log(config: ChannelConfig, timeout: float) -> ChannelSender:
    return NotifierSender(LogNotifier(name=config.name), "written to the shipwise.notify log")


def _sentry_flags(config: ChannelConfig, timeout: float) -> ChannelSender:
    hide_url(config.secrets["url"])  # Sentry's webhook URL names the organisation
    return SentryFlagsSender(
        config.secrets["url"], config.secrets["secret"], timeout=timeout, name=config.name
    )


BUILDERS: dict[str, Callable[[ChannelConfig, float], ChannelSender]] = {
    "slack": _slack,
    "email": _email,
    "webhook": _webhook,
    "log": _log,
    "sentry-flags": _sentry_flags,
}


class Senders:
    """Builds senders; ``timeout``: seconds a channel may take to answer."""

    def __init__(self, timeout: float = 5.0) -> None:
        self._timeout = timeout

    def sender(self, config: ChannelConfig) -> ChannelSender:
        build = BUILDERS.get(config.kind)
        if build is None:
            raise ValueError(f"no sender for channel kind {config.kind!r}")
        try:
            return build(config, self._timeout)
        except KeyError as missing:
            raise ValueError(f"the channel lacks {missing.args[0]}") from None
