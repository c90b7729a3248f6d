"""What the dashboard shows of a release's email announcements: the release page's
section (each announcement with its state in words and its counts, and what the draft
form offers) and the words for where one stands.

Its own module so that the release page (which shows the section), the announcement's
page and the actions (which show either again after a refusal) share it without
importing each other. Only those who manage releases read announcements (a recipient
list is people's addresses): for anyone else the section is None and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from shipwise.domain.access import Action
from shipwise.domain.mailout import MailoutStatus
from shipwise.server.bootstrap import Services
from shipwise.server.services.email_announcements import MailoutView
from shipwise.server.web.session_auth import Viewer
from shipwise.server.web.templating import may

__all__ = [
    "MailoutRow",
    "MailoutSection",
    "email_channels",
    "mailout_section",
    "mailout_url",
    "may_send",
    "state_words",
]


@dataclass(frozen=True, slots=True)
class MailoutRow:
    mailout: MailoutView
    state: str  # ``state_words``


@dataclass(frozen=True, slots=True)
class MailoutSection:
    rows: list[MailoutRow]  # this release's, oldest first
    channels: list[str]  # the project's email channels, by name


def mailout_url(project: str, key: str, mailout_id: int) -> str:
    return f"/projects/{project}/releases/{key}/mailouts/{mailout_id}"


def may_send(viewer: Viewer) -> bool:
    """Whether ``viewer`` may send to the list: those who manage the project's channels
    (the service checks it again)."""
    return may(viewer, Action.MANAGE_CHANNELS.value)


def state_words(view: MailoutView) -> str:
    """Where an announcement stands, and what comes next, in words."""
    if view.status == MailoutStatus.SENT:
        return "sent"
    if view.status == MailoutStatus.SENDING:
        return f"sending stopped with {view.pending} pending: send again to continue"
    if view.status == MailoutStatus.TESTED:
        return f"version {view.version} had its dry run: ready to send"
    if view.tested_version is None:
        return "draft: it needs a dry run before it can be sent"
    return (
        f"draft: version {view.version} was edited after the dry run of version "
        f"{view.tested_version}: it needs another"
    )


def email_channels(services: Services, viewer: Viewer, project: str) -> list[str]:
    found = services.channels.list(viewer.principal, project)
    return [c.name for c in found if c.kind == "email"]


def mailout_section(
    services: Services, viewer: Viewer, project: str, key: str
) -> MailoutSection | None:
    """Release ``key``'s announcements as ``viewer`` may read them (None: they may not)."""
    if not may(viewer, Action.MANAGE_RELEASES.value):
        return None
    found = services.mailouts.list(viewer.principal, project)
    mine = sorted((m for m in found if m.release == key), key=lambda m: m.id)
    rows = [MailoutRow(m, state_words(m)) for m in mine]
    return MailoutSection(rows, email_channels(services, viewer, project))
