"""Telling Sentry about flag changes: every change of a flag (created, its rules,
switched on or off, rolled out, killed, rolled back, archived) is queued, in the
change's own transaction, for each ``sentry-flags`` channel of its project
(``notify/sentry_flags.py`` sends it to Sentry's change-tracking webhook).

Why not ``Notifications.announce``: flag changes are many and only Sentry wants each
of them, so they are no event kind the team's channels could hear through a ``*``
subscription; they go straight to the one kind of channel that asks for them. The
outbox delivers and retries them like any other message of the channel.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from shipwise.server.ports import ChannelStore, Clocked, Notification, OutboxStore, Project
from shipwise.server.services.notifications import CHANNEL_PREFIX

SENTRY_FLAGS = "sentry-flags"  # the channel kind that hears flag changes
FLAG_CHANGED = "flag.changed"


class FlagNewsTx(OutboxStore, ChannelStore, Clocked, Protocol):
    """What telling touches: the project's channels and the outbox."""


def sentry_action(action: str, archived: bool = False) -> str:
    """Sentry's word for an audit action: created, deleted (now archived) or updated."""
    if archived:
        return "deleted"
    return "created" if action == "flag.create" else "updated"


def change_id(*parts: object) -> int:
    """A number naming one change, the same for every retry of its message; under 2**53,
    so any JSON reader keeps it exact."""
    text = "|".join(str(part) for part in parts)
    return int(hashlib.sha256(text.encode()).hexdigest()[:13], 16)


def tell_sentry(
    tx: FlagNewsTx,
    project: Project,
    flag: str,
    action: str,
    actor: str,
    *,
    environment: str | None = None,
    change: object = None,
    archived: bool = False,
) -> None:
    """Queue the change of ``flag`` (audited as ``action`` by ``actor``) for the
    project's ``sentry-flags`` channels; ``change`` tells it from others of the flag (a
    configuration's new version), else the moment does."""
    channels = [c for c in tx.list_channels(project.id) if c.kind == SENTRY_FLAGS]
    if not channels:
        return
    now = tx.now()
    what = sentry_action(action, archived)
    where = f" in {environment}" if environment else ""
    notification = Notification(
        kind=FLAG_CHANGED,
        project=project.key,
        title=f"Flag {flag} {what}{where}",
        text=f"{actor} changed flag {flag}{where} ({action}).",
        at=now,
        flag=flag,
        environment=environment,
        data={
            "action": what,
            "audit_action": action,
            "actor": actor,
            "change_id": change_id(
                project.key,
                flag,
                environment,
                action,
                now.isoformat() if change is None else change,
            ),
        },
    )
    for channel in channels:
        tx.enqueue(f"{CHANNEL_PREFIX}{channel.id}", notification)
