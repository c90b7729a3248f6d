"""Email announcements: the store of announcements and of each recipient's send, and
the mailer that renders one and sends it over an email channel's SMTP server.

A recipient's row is written (claimed) before the message goes to them, in a unit of
work of its own: a retried send, or two sends at once, never mails anyone twice. A
claim whose send failed for a reason that is not the recipient's is released, so a
retry sends it; a crash between claim and send leaves it claimed (``sending``), which
a retry does not send again: at most once, never twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shipwise.server.ports.channels import ChannelConfig


@dataclass(frozen=True, slots=True)
class MailoutRecord:
    id: int
    project_id: int
    release_id: int
    channel_id: int | None  # the email channel whose SMTP server sends it
    subject: str
    body: str  # Markdown
    recipients: tuple[str, ...]
    status: str  # ``domain.mailout.MailoutStatus``
    version: int  # goes up with every edit
    tested_version: int | None  # the version the last dry run sent
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RecipientSend:
    address: str
    state: str  # "sending" (claimed), "sent", "refused" (by the recipient's server)
    said: str  # what the SMTP server answered
    at: datetime


class MailoutStore(Protocol):
    def add_mailout(
        self,
        *,
        project_id: int,
        release_id: int,
        channel_id: int | None,
        subject: str,
        body: str,
        recipients: Sequence[str],
        created_by: str,
    ) -> MailoutRecord: ...

    def get_mailout(self, mailout_id: int, *, for_update: bool = False) -> MailoutRecord | None:
        """``for_update`` locks the row until the unit of work ends (PostgreSQL): an edit
        and a send's status change each read it so, and the second waits for the first."""
        ...

    def list_mailouts(self, project_id: int) -> list[MailoutRecord]:
        """The project's announcements, oldest first."""
        ...

    def save_mailout(self, record: MailoutRecord) -> MailoutRecord:
        """Its channel, subject, body, recipients, status, version and tested version
        stored, ``updated_at`` stamped by the store's clock."""
        ...

    def claim_recipient(self, mailout_id: int, address: str) -> bool:
        """Record that ``address`` is being sent the announcement; False when it has a
        row already (sent, refused, or being sent by another request)."""
        ...

    def finish_recipient(self, mailout_id: int, address: str, state: str, said: str) -> None:
        """A claimed recipient's outcome: "sent" or "refused"."""
        ...

    def release_recipient(self, mailout_id: int, address: str) -> None:
        """Forget a claim whose send failed for the channel's reasons: a retry sends it."""
        ...

    def recipient_sends(self, mailout_id: int) -> list[RecipientSend]:
        """Every recipient with a row, in the order they were claimed."""
        ...


@dataclass(frozen=True, slots=True)
class MailContent:
    """What a person wrote, and what the message says around it."""

    subject: str
    body: str  # Markdown
    project: str
    release: str  # the release's key
    release_title: str
    # The release's help-docs page, if recorded: what users can open (the dashboard's
    # release page is the team's, not theirs).
    link: str | None


@dataclass(frozen=True, slots=True)
class RenderedMail:
    subject: str
    plain: str
    html: str


class RecipientRefused(Exception):
    """The recipient's address was refused for good (a 5xx to RCPT TO): not retried."""


class MailSession(Protocol):
    def send(self, to: str, mail: RenderedMail) -> str:
        """Send ``mail`` to ``to`` alone; what the server answered. ``RecipientRefused``
        for that address alone; ``NotificationFailed`` when the channel failed."""
        ...

    def close(self) -> None: ...


class Mailer(Protocol):
    def render(self, content: MailContent) -> RenderedMail:
        """The plain-text and the HTML part, exactly as they will be sent."""
        ...

    def open(self, config: ChannelConfig) -> MailSession:
        """A connection to the email channel's server (opened at the first send);
        ``ValueError`` naming a setting the channel lacks."""
        ...
