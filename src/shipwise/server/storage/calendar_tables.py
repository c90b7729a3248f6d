"""The schema of calendar feed links (issue 14's monitoring schedule as iCal): a
secret address per link, stored only as its hash. Same ``Base`` as ``tables.py``;
migrations and the schema check import it (``migrations/env.py``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shipwise.server.storage.tables import Base


class CalendarFeedRow(Base):
    """A feed link of a project: whoever holds its address reads the project's schedules."""

    __tablename__ = "calendar_feeds"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the token, hex: looked up by an index, never compared in Python.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(200))
    # The maker's api token: the feed opens only while it is valid (not revoked or expired).
    token_id: Mapped[int | None] = mapped_column(ForeignKey("tokens.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
