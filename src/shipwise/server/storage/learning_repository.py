"""Release learnings: rows in, records out. Mixed into ``SqlTransaction``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shipwise.server.ports.learnings import StoredLearnings
from shipwise.server.storage.learning_tables import LearningsRow
from shipwise.server.storage.timestamps import utc


def _learnings(row: LearningsRow) -> StoredLearnings:
    return StoredLearnings(
        row.release_id, dict(row.data), row.updated_by, utc(row.updated_at), row.version
    )


class LearningsQueries:
    session: Session
    _now: Callable[[], datetime]

    def get_learnings(self, release_id: int) -> StoredLearnings | None:
        row = self.session.get(LearningsRow, release_id)
        return None if row is None else _learnings(row)

    def save_learnings(
        self, project_id: int, release_id: int, data: Mapping[str, Any], updated_by: str
    ) -> StoredLearnings:
        row = self.session.get(LearningsRow, release_id)
        if row is None:
            row = LearningsRow(release_id=release_id, project_id=project_id, version=1)
            self.session.add(row)
        else:
            row.version += 1
        row.data = dict(data)
        row.updated_by = updated_by
        row.updated_at = self._now()
        self.session.flush()
        return _learnings(row)
