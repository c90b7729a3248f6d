"""The schema of release learnings (issue 14's "after"): one row per release, what
people wrote as one JSON document (validated by ``domain.learnings`` before it is
stored), and a version for optimistic concurrency. Same ``Base`` as ``tables.py``;
migrations and the schema check import it (``migrations/env.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shipwise.server.storage.tables import Base


class LearningsRow(Base):
    """A release's learnings as last saved."""

    __tablename__ = "release_learnings"
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    data: Mapped[dict[str, Any]]
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)
