"""The schema of in-app announcements (issue 14): each announcement with its rendered
HTML, and who dismissed it. Same ``Base`` as ``tables.py``; imported by
``migrations/env.py`` so the schema check sees it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shipwise.server.storage.tables import Base


class AnnouncementRow(Base):
    """A release's announcement to one environment's users whose flag is on."""

    __tablename__ = "announcements"
    # What SDKs and browsers read: an environment's announcements not yet ended.
    __table_args__ = (Index("ix_announcements_environment_ends", "environment_id", "ends_at"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), index=True
    )
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    flag: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(2000))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    ended_by: Mapped[str | None] = mapped_column(String(200))


class DismissalRow(Base):
    """One user dismissed one announcement: once (the key), whoever asked."""

    __tablename__ = "announcement_dismissals"
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    dismissed_at: Mapped[datetime]
