"""Notifications people should hear about, and the notifiers that deliver them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Notification:
    """Something people should hear about: a rollout advanced, paused, rolled back."""

    kind: str  # "rollout.advanced", "rollout.paused", "rollout.rolled-back", ...
    project: str
    title: str  # one line
    text: str  # a few lines a person can act on
    at: datetime
    release: str | None = None
    flag: str | None = None
    environment: str | None = None
    severity: str = "info"  # info, warning, critical
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "project": self.project,
            "release": self.release,
            "flag": self.flag,
            "environment": self.environment,
            "severity": self.severity,
            "title": self.title,
            "text": self.text,
            "at": self.at.isoformat(),
            "data": dict(self.data),
        }

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> Notification:
        """Back from ``to_dict`` (as the outbox keeps it)."""
        return cls(
            kind=str(payload["kind"]),
            project=str(payload["project"]),
            title=str(payload["title"]),
            text=str(payload["text"]),
            at=datetime.fromisoformat(str(payload["at"])),
            release=payload.get("release"),
            flag=payload.get("flag"),
            environment=payload.get("environment"),
            severity=str(payload.get("severity", "info")),
            data=dict(payload.get("data") or {}),
        )


class NotificationFailed(Exception):
    """A notifier could not deliver; the message says why (it is retried later).
    ``retry_after``: seconds the receiver asked to wait (a 429's ``Retry-After``)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Notifier(Protocol):
    name: str

    def send(self, notification: Notification) -> None:
        """Deliver, or raise NotificationFailed."""
        ...
