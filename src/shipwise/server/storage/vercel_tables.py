"""The schema of what Vercel's drains deliver (issue 15): one row per web vital, request
or custom event, and the links from Vercel deployments to the commits Shipwise knows.
Same ``Base`` as ``tables.py``; migrations and the schema check import it
(``migrations/env.py``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shipwise.server.storage.tables import Base


class DrainRecordRow(Base):
    """A record of a drain delivery, as ``ports.vercel.DrainRecord``."""

    __tablename__ = "drain_records"
    __table_args__ = (
        # Every guardrail read (DrainQuery) names the project, kind and name and a window.
        Index("ix_drain_records_lookup", "project_id", "kind", "name", "at"),
        # The retention sweep deletes the oldest rows first, across projects.
        Index("ix_drain_records_at", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]  # when it happened, by Vercel's timestamp
    value: Mapped[float | None]
    status: Mapped[int | None]
    route: Mapped[str | None] = mapped_column(String(500))
    deployment: Mapped[str | None] = mapped_column(String(100))
    environment: Mapped[str | None] = mapped_column(String(63))
    received_at: Mapped[datetime]


class VercelDeploymentRow(Base):
    """A Vercel deployment tied to the Shipwise environment and commit it serves."""

    __tablename__ = "vercel_deployments"
    __table_args__ = (
        UniqueConstraint("project_id", "deployment"),
        Index("ix_vercel_deployments_commit", "project_id", "environment", "commit"),
    )
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    deployment: Mapped[str] = mapped_column(String(100))
    environment: Mapped[str] = mapped_column(String(63))
    commit: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
