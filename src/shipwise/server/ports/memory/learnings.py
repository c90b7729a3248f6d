"""Release learnings, in memory."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from shipwise.server.ports.learnings import StoredLearnings
from shipwise.server.ports.memory.base import MemoryBase
from shipwise.server.ports.memory.tables import utc


class LearningsQueries(MemoryBase):
    def get_learnings(self, release_id: int) -> StoredLearnings | None:
        return self._t.learnings.get(release_id)

    def save_learnings(
        self, project_id: int, release_id: int, data: Mapping[str, Any], updated_by: str
    ) -> StoredLearnings:
        del project_id  # the release belongs to one project; kept for the SQL row
        old = self._t.learnings.get(release_id)
        record = StoredLearnings(
            release_id,
            copy.deepcopy(dict(data)),
            updated_by,
            utc(self._now()),
            1 if old is None else old.version + 1,
        )
        self._t.learnings[release_id] = record
        return record
