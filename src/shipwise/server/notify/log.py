"""The log notifier: each notification as one structured line on ``shipwise.notify``.

Always configured, so a notification is never only in the database: in development it
is the console, in production it reaches whatever collects the logs (and alerts on
errors). The level follows the severity: info → INFO, warning → WARNING,
critical → ERROR; a severity it does not know logs as WARNING, to be seen.

    Rollout of new-checkout paused at 25% | kind=rollout.paused project=shop
    flag=new-checkout environment=production severity=warning

(one line; wrapped here). The message is the title, then the key fields as
``key=value`` pairs, values quoted when they hold spaces, quotes or ``=``. The whole
notification, ``text`` and ``data`` included, rides on the record as
``record.notification`` (its ``to_dict()``) for JSON log formatters.
"""

from __future__ import annotations

import json
import logging

from shipwise.domain.text import inert
from shipwise.server.ports import Notification

LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.ERROR}
FIELDS = ("kind", "project", "release", "flag", "environment", "severity")


def _value(value: str) -> str:
    text = " ".join(value.split())  # one line, whatever the value holds
    if not text or any(c in text for c in ' "=\\'):
        text = json.dumps(text, ensure_ascii=False)
    return inert(text)  # nothing that could reorder the line or drive a terminal


def describe(notification: Notification) -> str:
    """The log line: the title, then the key fields that are set, as key=value."""
    pairs = []
    for name in FIELDS:
        value = getattr(notification, name)
        if value is not None:
            pairs.append(f"{name}={_value(str(value))}")
    title = inert(" ".join(notification.title.split()))
    return f"{title} | {' '.join(pairs)}"


class LogNotifier:
    """Writes notifications to the ``shipwise.notify`` logger; never fails."""

    def __init__(self, *, name: str = "log", logger: logging.Logger | None = None) -> None:
        self.name = name
        self._log = logger or logging.getLogger("shipwise.notify")

    def send(self, notification: Notification) -> None:
        level = LEVELS.get(notification.severity, logging.WARNING)
        self._log.log(
            level,
            "%s",
            describe(notification),
            extra={"notification": notification.to_dict()},
        )

    def close(self) -> None:
        """Nothing to release; here so every notifier can be closed alike."""
