"""The schema of release communication (issue 14's tables): notification channels and
their threads, subscriptions and the events already announced, and release notes with
people's edits. Same ``Base`` as ``tables.py``; split off to keep each module small.
Migrations and the schema check import both (``migrations/env.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shipwise.server.storage.tables import Base


class ChannelRow(Base):
    """A project's notification channel: public settings in the clear, its secrets
    only as one sealed (Fernet) document, so a copy of the database does not reveal them."""

    __tablename__ = "notification_channels"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(20))
    settings: Mapped[dict[str, Any]]
    sealed: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)


class ChannelThreadRow(Base):
    """What a channel's sender remembers per thread: a rollout's Slack message."""

    __tablename__ = "notification_channel_threads"
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    ref: Mapped[str] = mapped_column(String(400))


class SubscriptionRow(Base):
    """Which events one channel hears: kinds or families, and an optional scope."""

    __tablename__ = "notification_subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE"), index=True
    )
    events: Mapped[list[Any]]
    environments: Mapped[list[Any]]
    flags: Mapped[list[Any]]
    release_kinds: Mapped[list[Any]]
    min_severity: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    # "daily" and its time of day (HH:MM, the policy's time zone); None: at once (0016).
    digest: Mapped[str | None] = mapped_column(String(20))
    digest_at: Mapped[str | None] = mapped_column(String(5))


class DedupeRow(Base):
    """An event already queued for a destination: its key, claimed once."""

    __tablename__ = "notification_dedupe"
    destination: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    created_at: Mapped[datetime]


class ProjectRepositoryRow(Base):
    """Where a project's git repository is (a path the server reads, or a URL it clones)."""

    __tablename__ = "project_repositories"
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    location: Mapped[str] = mapped_column(String(1000))
    updated_at: Mapped[datetime]


class ReleaseNotesRow(Base):
    """A release's notes as git last gave them; people's edits are kept apart."""

    __tablename__ = "release_notes"
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True
    )
    base_commit: Mapped[str | None] = mapped_column(String(64))
    head_commit: Mapped[str] = mapped_column(String(64))
    entries: Mapped[list[Any]]
    excluded: Mapped[list[Any]]
    refreshed_at: Mapped[datetime]
    refreshed_by: Mapped[str] = mapped_column(String(200))


class ReleaseNoteEditRow(Base):
    """A person's edit of one entry, by the entry's stable key: it survives a refresh."""

    __tablename__ = "release_note_edits"
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True
    )
    entry_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    text: Mapped[str | None] = mapped_column(Text)
    hidden: Mapped[bool]
    edited_by: Mapped[str] = mapped_column(String(200))
    edited_at: Mapped[datetime]
