"""A release's learnings, as people last saved them (``domain.learnings``): one record
per release, with a version that every save bumps (a stale save is refused by the
service, which holds the release's row lock while it compares)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class StoredLearnings:
    release_id: int
    data: Mapping[str, Any]  # ``LearningsDraft.to_data()``
    updated_by: str
    updated_at: datetime
    version: int


class LearningsStore(Protocol):
    def get_learnings(self, release_id: int) -> StoredLearnings | None: ...
    def save_learnings(
        self, project_id: int, release_id: int, data: Mapping[str, Any], updated_by: str
    ) -> StoredLearnings:
        """Version 1 the first time, else the next version; stamped by the store's clock.
        The caller holds the release's row lock and has checked the version it read."""
        ...
