"""A project's notification channels (Slack, email, webhook, log) as data, and the
senders that deliver to them.

A channel's record keeps its public settings (a Slack channel name, an SMTP host) in
the clear and its secrets (webhook URLs, tokens, passwords) only sealed by a
``SecretBox``: the store never sees them in the clear, so a copy of the database alone
does not reveal them. A Slack bot channel also remembers, per rollout, the message it
posted first (``channel_thread``), so later steps update it and reply in its thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from shipwise.server.ports.notify import Notification


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    id: int
    project_id: int
    name: str
    kind: str  # "slack", "email", "webhook", "log"
    settings: Mapping[str, Any]  # public: never a secret
    sealed: str | None  # the secrets as one JSON object, sealed by the ``SecretBox``
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class ChannelStore(Protocol):
    def add_channel(
        self,
        *,
        project_id: int,
        name: str,
        kind: str,
        settings: Mapping[str, Any],
        sealed: str | None,
        created_by: str,
    ) -> ChannelRecord:
        """``KeyTaken`` when the project has a channel of that name."""
        ...

    def list_channels(self, project_id: int) -> list[ChannelRecord]:
        """The project's channels, in the order they were added."""
        ...

    def get_channel(self, channel_id: int) -> ChannelRecord | None: ...

    def update_channel(
        self, channel_id: int, *, settings: Mapping[str, Any], sealed: str | None
    ) -> ChannelRecord:
        """New settings and secrets, the version bumped, stamped by the store's clock."""
        ...

    def remove_channel(self, channel_id: int) -> bool:
        """False when there was none; its threads go with it."""
        ...

    def channel_thread(self, channel_id: int, key: str) -> str | None:
        """What the channel's sender said to remember for ``key`` (a Slack message)."""
        ...

    def set_channel_thread(self, channel_id: int, key: str, ref: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Delivered:
    """What a channel answered: words for a person (the test button shows them) and, for
    a sender that keeps threads, what to pass back next time for the same thread."""

    said: str
    thread: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    kind: str
    name: str
    settings: Mapping[str, Any]
    # Opened, for the sender only: never in its repr (a log line, an error, an assertion).
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)


class ChannelSender(Protocol):
    # At most one message per this many seconds (Slack asks ~1 per second per channel).
    min_interval: float

    def thread_key(self, notification: Notification) -> str | None:
        """The thread ``notification`` belongs to (a rollout's), for a sender that keeps
        threads; None: every notification stands alone."""
        ...

    def send(self, notification: Notification, thread: str | None = None) -> Delivered:
        """Deliver a notification of any kind, or raise ``NotificationFailed``.
        ``thread`` is what an earlier delivery of the same thread answered."""
        ...

    def close(self) -> None: ...


class ChannelSenders(Protocol):
    def sender(self, config: ChannelConfig) -> ChannelSender:
        """A sender for ``config``; ``ValueError`` naming the setting at fault."""
        ...
