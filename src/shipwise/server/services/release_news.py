"""What the release services tell people, as notifications a person understands on
their own: a release created, approved, waiting for a sign-off, refused a promotion, its
rollback drilled, a bug fix due soon or overdue. Each names the release and links to its
page on the dashboard (``Links``: absolute, under the server's public address).

``ReleaseNews.announce`` queues one inside the caller's unit of work (the outbox is
written with what it reports, so a rolled-back unit of work sends nothing). Each kind
says what makes it one event (``event_key``), so a retry or a second sweep sends nothing
twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from shipwise.domain.access import Action, Role, allows
from shipwise.domain.events import DEFAULT_SEVERITY, EventKind
from shipwise.domain.releases import GateResult, Release
from shipwise.server.ports import Notification, TokenRecord
from shipwise.server.services.notifications import AnnounceTx, Notifications

DEFAULT_PUBLIC_URL = "http://127.0.0.1:4242"  # ``Settings.dashboard_url``'s default


@dataclass(frozen=True, slots=True)
class Links:
    """Absolute addresses of the dashboard's pages, under ``base`` (no trailing slash)."""

    base: str = DEFAULT_PUBLIC_URL

    def release(self, project: str, key: str) -> str:
        return f"{self.base.rstrip('/')}/projects/{quote(project)}/releases/{quote(key)}"

    def rollout(self, project: str, plan_id: int) -> str:
        """A rollout plan's page (``web/rollout_page.rollout_url``, made absolute)."""
        return f"{self.base.rstrip('/')}/projects/{quote(project)}/rollouts/{plan_id}"


class ReleaseNews:
    """Announces the release services' events through ``Notifications``."""

    def __init__(self, notifications: Notifications, links: Links) -> None:
        self._notifications = notifications
        self.links = links

    def announce(
        self,
        tx: AnnounceTx,
        kind: EventKind,
        release: Release,
        title: str,
        lines: Sequence[str],
        *,
        now: datetime,
        event_key: str,
        environment: str | None = None,
        severity: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Notification:
        """Queue ``kind`` about ``release`` in ``tx``: ``lines`` then the link to the
        release's page; ``event_key`` (after the project and release) makes it one
        event."""
        url = self.links.release(release.project, release.key)
        notification = Notification(
            kind=kind.value,
            project=release.project,
            title=title,
            text="\n".join([*lines, f"Open {release.key}: {url}"]),
            at=now,
            release=release.key,
            environment=environment,
            severity=severity or DEFAULT_SEVERITY[kind].label,
            data={
                **(data or {}),
                "url": url,
                "flags": list(release.flags),
                "event_key": f"{release.project}/{release.key}|{event_key}",
            },
        )
        self._notifications.announce(tx, notification)
        return notification


def named(release: Release) -> str:
    """``rel-1 (New checkout)``: how every message names a release."""
    return f"{release.key} ({release.title})"


def unmet_lines(gates: Iterable[GateResult]) -> list[str]:
    """One line per gate not met: what was found and what would satisfy it."""
    return [
        f"- {g.gate}: {g.detail}" + (f" — {g.remedy}" if g.remedy else "")
        for g in gates
        if not g.passed
    ]


def who_can(tokens: Iterable[TokenRecord], action: Action, now: datetime) -> list[str]:
    """The people of a project (their live api tokens) whose role allows ``action``, by
    name, and the roles that do: ``["quinn (qa)", "carol (release-manager)"]``."""
    found: dict[str, str] = {}
    for token in tokens:
        if token.kind != "api" or token.role is None or token.revoked_at is not None:
            continue
        if token.expires_at is not None and token.expires_at <= now:
            continue
        try:
            role = Role(token.role)
        except ValueError:
            continue
        if allows(role, action):
            found.setdefault(token.name, role.value)
    return [f"{name} ({role})" for name, role in sorted(found.items())]


def roles_that_can(action: Action) -> list[str]:
    return [role.value for role in Role if allows(role, action)]


def in_words(span: timedelta) -> str:
    """``3 h``, ``2 days``, ``25 min``: how far a due time is, roughly."""
    seconds = abs(span.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{max(1, round(seconds / 60))} min"
