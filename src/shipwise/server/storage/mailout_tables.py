"""The schema of email announcements (issue 14): an announcement drafted for a release,
and one row per recipient it went to. Same ``Base`` as ``tables.py``; imported by
``migrations/env.py`` beside the others."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shipwise.server.storage.tables import Base


class MailoutRow(Base):
    """An email announcement: what it says, to whom, through which channel, how far."""

    __tablename__ = "email_announcements"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), index=True
    )
    # A removed channel leaves the announcement without one (it must be given another).
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="SET NULL")
    )
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    recipients: Mapped[list[Any]]
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(default=1)
    tested_version: Mapped[int | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MailoutSendRow(Base):
    """One recipient's message: claimed before it is sent, so nobody gets it twice."""

    __tablename__ = "email_announcement_sends"
    mailout_id: Mapped[int] = mapped_column(
        ForeignKey("email_announcements.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(254), primary_key=True)
    seq: Mapped[int]  # claim order
    state: Mapped[str] = mapped_column(String(16))
    said: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime]
